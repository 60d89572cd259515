-- A message into an existing conversation: the hot path. One HMGET, the log entry, one HSET
-- (dedupe record, the other party's unread count and, on the first unread message of a burst,
-- their reminder), a pointer in each party's stream and a notice to each. Lua only joins the ids
-- Redis generates to strings the server built: every other string (dedupe field and record,
-- fingerprint, notice, reminder due time) comes in ARGV.
--  KEYS[1] conversation  KEYS[2] its log  KEYS[3] client's stream  KEYS[4] specialist's stream
--  KEYS[5] specialist's first replies  KEYS[6] inquiry expiries  KEYS[7] reminders due
--  ARGV[1] client id (membership: the server derived the keys from the stored parties)
--  ARGV[2] dedupe field 'm:c:<client_msg_id>' or 'm:s:<client_msg_id>' (the sender's side)
--  ARGV[3] ' <now ms> <fingerprint>', the dedupe record after the log id
--  ARGV[4] the other party's unread field ('unread_s' or 'unread_c')
--  ARGV[5] sender  ARGV[6] client_msg_id  ARGV[7] now ms  ARGV[8] body (sealed for ARGV[18])
--  ARGV[9] stream max length  ARGV[10] conversation id
--  ARGV[11] client's channel  ARGV[12] specialist's channel
--  ARGV[13] the notice but its ids ('M' + fields); '<log id> <event id>' completes it
--  ARGV[14] the other party's reminder field ('rem_s' or 'rem_c')  ARGV[15] its reminder's due
--  time ms  ARGV[16] its member in the reminders ('<cid>|s' or '<cid>|c')
--  ARGV[17] the oldest first reply kept, as a ZREMRANGEBYSCORE bound ('(<ms>')
--  ARGV[18] the seq the body was sealed for: stored only if it is the conversation's next one
--  (the field 'seq' holds the last), else {'seq', last} and the server seals it again
-- Returns {'ok', log id, client event id, specialist event id} | {'dup', record} |
-- {'seq', last seq} | {'err', CODE, message}.
-- (send_head.lua, prepended, did the conversation's checks and its log entry.)
if remind then
    redis.call('ZADD', KEYS[7], ARGV[15], ARGV[16])
end
if took then
    redis.call('ZREM', KEYS[6], ARGV[10])
    redis.call('ZADD', KEYS[5], ARGV[7], took .. ':' .. ARGV[10])
    redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[17])
end
redis.call('HSET', KEYS[1], unpack(set))
local a = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '0-*', 'c', ARGV[10], 'q', id)
local b = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '0-*', 'c', ARGV[10], 'q', id)
redis.call('PUBLISH', ARGV[11], ARGV[13] .. id .. ' ' .. a)
redis.call('PUBLISH', ARGV[12], ARGV[13] .. id .. ' ' .. b)
return {'ok', id, a, b}

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
local m = redis.call('HMGET', KEYS[1], 'client', 'state', ARGV[2], ARGV[4], ARGV[14],
                     'first_reply', 'created', 'seq')
if m[1] ~= ARGV[1] then
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
if m[3] then
    return {'dup', m[3]}
end
if m[2] ~= 'inquiry' and m[2] ~= 'active' then
    return {'err', 'FAILED_PRECONDITION', 'the conversation is ' .. m[2]}
end
local last = tonumber(m[8]) or 0
if last + 1 ~= tonumber(ARGV[18]) then
    return {'seq', tostring(last)}
end
local id = redis.call('XADD', KEYS[2], '0-' .. ARGV[18], 's', ARGV[5], 'i', ARGV[6], 't', ARGV[7],
                      'b', ARGV[8])
local set = {ARGV[2], id .. ARGV[3], ARGV[4], (tonumber(m[4]) or 0) + 1, 'seq', ARGV[18]}
if not m[5] then
    -- The first message the other party has not read: their reminder counts from it.
    set[#set + 1] = ARGV[14]
    set[#set + 1] = ARGV[7]
    redis.call('ZADD', KEYS[7], ARGV[15], ARGV[16])
end
if ARGV[5] ~= ARGV[1] and not m[6] then
    -- The specialist's first reply: the inquiry is answered (it no longer expires), and the
    -- time it took is one sample of the specialist's measured reply time.
    set[#set + 1] = 'first_reply'
    set[#set + 1] = ARGV[7]
    set[#set + 1] = 'expires'
    set[#set + 1] = '0'
    redis.call('ZREM', KEYS[6], ARGV[10])
    local took = math.max(0, tonumber(ARGV[7]) - (tonumber(m[7]) or tonumber(ARGV[7])))
    redis.call('ZADD', KEYS[5], ARGV[7], took .. ':' .. ARGV[10])
    redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[17])
end
redis.call('HSET', KEYS[1], unpack(set))
local a = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '0-*', 'c', ARGV[10], 'q', id)
local b = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '0-*', 'c', ARGV[10], 'q', id)
redis.call('PUBLISH', ARGV[11], ARGV[13] .. id .. ' ' .. a)
redis.call('PUBLISH', ARGV[12], ARGV[13] .. id .. ' ' .. b)
return {'ok', id, a, b}

-- send.lua of layout 2 before the directory work merged (no reminder, no first reply): measured
-- beside send.lua to show what the workflow costs per send.
-- A message into an existing conversation: the hot path. One HMGET, the log entry, one HSET
-- (dedupe record and the other party's unread count), a pointer in each party's stream and a
-- notice to each. Lua only joins the ids Redis generates to strings the server built: every
-- other string (dedupe field and record, fingerprint, notice) comes in ARGV.
--  KEYS[1] conversation  KEYS[2] its log  KEYS[3] client's stream  KEYS[4] specialist's stream
--  ARGV[1] client id (membership: the server derived the keys from the stored parties)
--  ARGV[2] dedupe field 'm:c:<client_msg_id>' or 'm:s:<client_msg_id>' (the sender's side)
--  ARGV[3] ' <now ms> <fingerprint>', the dedupe record after the log id
--  ARGV[4] the other party's unread field ('unread_s' or 'unread_c')
--  ARGV[5] sender  ARGV[6] client_msg_id  ARGV[7] now ms  ARGV[8] body
--  ARGV[9] stream max length  ARGV[10] conversation id
--  ARGV[11] client's channel  ARGV[12] specialist's channel
--  ARGV[13] the notice but its ids ('M' + fields); '<log id> <event id>' completes it
-- Returns {'ok', log id, client event id, specialist event id} | {'dup', record} |
-- {'err', CODE, message}.
local m = redis.call('HMGET', KEYS[1], 'client', 'state', ARGV[2], ARGV[4])
if m[1] ~= ARGV[1] then
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
if m[3] then
    return {'dup', m[3]}
end
if m[2] ~= 'inquiry' and m[2] ~= 'active' then
    return {'err', 'FAILED_PRECONDITION', 'the conversation is ' .. m[2]}
end
local id = redis.call('XADD', KEYS[2], '0-*', 's', ARGV[5], 'i', ARGV[6], 't', ARGV[7], 'b', ARGV[8])
redis.call('HSET', KEYS[1], ARGV[2], id .. ARGV[3], ARGV[4], (tonumber(m[4]) or 0) + 1)
local a = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '0-*', 'c', ARGV[10], 'q', id)
local b = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '0-*', 'c', ARGV[10], 'q', id)
redis.call('PUBLISH', ARGV[11], ARGV[13] .. id .. ' ' .. a)
redis.call('PUBLISH', ARGV[12], ARGV[13] .. id .. ' ' .. b)
return {'ok', id, a, b}

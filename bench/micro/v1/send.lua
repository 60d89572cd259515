-- A message into an existing conversation. KEYS and ARGV[1..9] as commit_message (prelude).
-- Returns {'ok', cid, seq, time} | {'dup', cid, seq, time} | {'err', CODE, message}.
local fingerprint = redis.sha1hex('send\0' .. ARGV[1] .. '\0' .. ARGV[4])
local sent = check_sent(KEYS[3], fingerprint)
if sent then
    return sent
end
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'state')
local sender = ARGV[2]
-- The caller derived KEYS from the stored parties; checking again keeps the script safe alone.
if not m[1] or (sender ~= m[1] and sender ~= m[2]) or m[1] ~= ARGV[8] or m[2] ~= ARGV[9] then
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
if m[3] ~= 'inquiry' and m[3] ~= 'active' then
    return {'err', 'FAILED_PRECONDITION', 'the conversation is ' .. m[3]}
end
return commit_message(fingerprint, sender == m[1])

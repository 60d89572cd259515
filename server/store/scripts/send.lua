-- A message into an existing conversation. KEYS and ARGV[1..9] as commit_message (prelude), then:
--  KEYS[10] specialist's first replies  KEYS[11] inquiry expiries  KEYS[12] reminders due
--  ARGV[10] the recipient's reminder delay ms  ARGV[11] first-reply window ms
-- Returns {'ok', cid, seq, time} | {'dup', cid, seq, time} | {'err', CODE, message}.
local fingerprint = redis.sha1hex('send\0' .. ARGV[1] .. '\0' .. ARGV[4])
local sent = check_sent(KEYS[3], fingerprint)
if sent then
    return sent
end
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'state', 'first_reply', 'created')
local sender, now = ARGV[2], ARGV[5]
-- The caller derived KEYS from the stored parties; checking again keeps the script safe alone.
if not m[1] or (sender ~= m[1] and sender ~= m[2]) or m[1] ~= ARGV[8] or m[2] ~= ARGV[9] then
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
if m[3] ~= 'inquiry' and m[3] ~= 'active' then
    return {'err', 'FAILED_PRECONDITION', 'the conversation is ' .. m[3]}
end
if sender == m[2] and not m[4] then
    -- The specialist's first reply: the inquiry is answered (it no longer expires), and the
    -- time it took is one sample of the specialist's measured reply time.
    redis.call('HSET', KEYS[1], 'first_reply', now, 'expires', '0')
    redis.call('ZREM', KEYS[11], ARGV[1])
    local took = math.max(0, tonumber(now) - (tonumber(m[5]) or tonumber(now)))
    redis.call('ZADD', KEYS[10], now, took .. ':' .. ARGV[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', '(' .. (tonumber(now) - tonumber(ARGV[11])))
end
return commit_message(fingerprint, sender == m[1], KEYS[12], ARGV[10])

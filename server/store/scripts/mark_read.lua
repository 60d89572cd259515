-- Moves the reader's read mark forward and tells the other party and the reader's devices.
--  KEYS[1] conversation  KEYS[2] conversation log
--  ARGV[1] conversation id  ARGV[2] reader  ARGV[3] up to seq
-- Returns {'ok', read mark} | {'err', CODE, message}.
local cid, reader = ARGV[1], ARGV[2]
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'seq', 'read_c', 'read_s')
if not m[1] or (reader ~= m[1] and reader ~= m[2]) then
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
local mine = reader == m[1] and 'c' or 's'
local other = reader == m[1] and m[2] or m[1]
local last = tonumber(m[3])
local old = tonumber(reader == m[1] and m[4] or m[5])
local up = math.min(tonumber(ARGV[3]), last)
if up <= old then
    return {'ok', tostring(old)}
end
local unread = 0
if up < last then
    -- Only the other party's messages after the mark count; usually a handful.
    local rest = redis.call('XRANGE', KEYS[2], '0-' .. (up + 1), '+')
    for i = 1, #rest do
        local f = rest[i][2]
        if f[2] ~= reader then
            unread = unread + 1
        end
    end
end
redis.call('HSET', KEYS[1], 'read_' .. mine, tostring(up), 'unread_' .. mine, tostring(unread))
local payload = 'R' .. table.concat(enc({cid, reader, 'r', tostring(up)}))
redis.call('PUBLISH', channel_of(other), payload)
redis.call('PUBLISH', channel_of(reader), payload)
return {'ok', tostring(up)}

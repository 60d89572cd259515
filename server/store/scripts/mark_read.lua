-- Moves the reader's read mark forward and tells the other party and the reader's devices.
--  KEYS[1] conversation  KEYS[2] conversation log  KEYS[3] reminders due
--  ARGV[1] conversation id  ARGV[2] reader  ARGV[3] up to seq  ARGV[4] the reader's reminder
--  delay ms
-- On a Redis Cluster KEYS[3] is KEYS[1] (the reminders' schedule is global, in another slot):
-- the server applies the third value of the reply to it as a step of its own.
-- Returns {'ok', read mark, schedule} | {'err', CODE, message}; schedule is '' (unchanged),
-- 'x' (the reader's reminder is cancelled) or the new due time of the reader's reminder.
local cid, reader = ARGV[1], ARGV[2]
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'read_c', 'read_s')
if not m[1] or (reader ~= m[1] and reader ~= m[2]) then
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
local mine = reader == m[1] and 'c' or 's'
local other = reader == m[1] and m[2] or m[1]
local old = tonumber(reader == m[1] and m[3] or m[4]) or 0
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last = newest[1] and tonumber(string.match(newest[1][1], '^0%-(%d+)$')) or 0
local up = math.min(tonumber(ARGV[3]), last)
if up <= old then
    return {'ok', tostring(old)}
end
-- Only the other party's messages after the mark count; usually a handful.
local unread = 0
local first_unread = nil
if up < last then
    local rest = redis.call('XRANGE', KEYS[2], '(0-' .. up, '+')
    for i = 1, #rest do
        local f = rest[i][2]
        if f[2] ~= reader then
            unread = unread + 1
            first_unread = first_unread or f[6]
        end
    end
end
redis.call('HSET', KEYS[1], 'read_' .. mine, tostring(up), 'unread_' .. mine, tostring(unread))
local member = cid .. '|' .. mine
local global = KEYS[3] ~= KEYS[1]
local schedule = ''
if unread == 0 then
    -- Everything read: the burst is over, and so is its reminder.
    redis.call('HDEL', KEYS[1], 'rem_' .. mine)
    schedule = 'x'
    if global then
        redis.call('ZREM', KEYS[3], member)
    end
else
    -- Partly read: a pending reminder counts from the oldest message still unread.
    local rem = redis.call('HGET', KEYS[1], 'rem_' .. mine)
    if rem and rem ~= 'sent' and first_unread and tonumber(first_unread) > tonumber(rem) then
        redis.call('HSET', KEYS[1], 'rem_' .. mine, first_unread)
        schedule = tostring(tonumber(first_unread) + tonumber(ARGV[4]))
        if global then
            redis.call('ZADD', KEYS[3], 'XX', schedule, member)
        end
    end
end
local payload = 'R' .. table.concat(enc({cid, reader, 'r', tostring(up)}))
redis.call('PUBLISH', channel_of(other), payload)
redis.call('PUBLISH', channel_of(reader), payload)
return {'ok', tostring(up), schedule}

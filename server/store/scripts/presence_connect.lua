-- A connection of the user goes live.
--  KEYS[1] user  KEYS[2] user connections  KEYS[3] presence expiry  KEYS[4] user contacts
--  ARGV[1] user id  ARGV[2] connection id  ARGV[3] now ms  ARGV[4] ttl ms
-- On a Redis Cluster KEYS[3] is KEYS[1] (the presence expiry is global, in another slot): the
-- server updates it as a step of its own (and every refresh does it again).
-- Returns the number of live connections of the user, this one included.
local now = tonumber(ARGV[3])
local expiry = tostring(now + tonumber(ARGV[4]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], expiry, ARGV[2])
local count = redis.call('ZCARD', KEYS[2])
if KEYS[3] ~= KEYS[1] then
    redis.call('ZADD', KEYS[3], 'GT', expiry, ARGV[1])
end
local p = redis.call('HMGET', KEYS[1], 'presence', 'status')
local status = p[2] or 'online'
if count == 1 then
    status = 'online'  -- a fresh start is never "away"
end
redis.call('HSET', KEYS[1], 'last_seen', ARGV[3], 'status', status)
if p[1] ~= status then
    redis.call('HSET', KEYS[1], 'presence', status, 'lost', '0')
    notify_contacts(KEYS[4], ARGV[1], status, ARGV[3], '0')
end
return count

-- If the user has no live connection left (on any node), they are offline: connection lost.
--  KEYS as presence_connect.lua.  ARGV[1] user id  ARGV[2] now ms
-- Returns the number of live connections.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
local count = redis.call('ZCARD', KEYS[2])
if count > 0 then
    return count
end
if KEYS[3] ~= KEYS[1] then
    redis.call('ZREM', KEYS[3], ARGV[1])
end
local p = redis.call('HMGET', KEYS[1], 'presence', 'last_seen')
if p[1] and p[1] ~= 'offline' then
    redis.call('HSET', KEYS[1], 'presence', 'offline', 'lost', '1')
    notify_contacts(KEYS[4], ARGV[1], 'offline', p[2] or ARGV[2], '1')
end
return 0

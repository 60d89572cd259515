-- The user sets ONLINE or AWAY.
--  KEYS[1] user  KEYS[2] user contacts  ARGV[1] user id  ARGV[2] online|away  ARGV[3] now ms
local p = redis.call('HMGET', KEYS[1], 'presence', 'last_seen')
redis.call('HSET', KEYS[1], 'status', ARGV[2])
if p[1] and p[1] ~= 'offline' and p[1] ~= ARGV[2] then
    redis.call('HSET', KEYS[1], 'presence', ARGV[2])
    notify_contacts(KEYS[2], ARGV[1], ARGV[2], p[2] or ARGV[3], '0')
end
return 'ok'

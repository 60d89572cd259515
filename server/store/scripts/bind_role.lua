-- KEYS[1] user  ARGV[1] role. Binds the role on first sight; returns the stored role.
local r = redis.call('HGET', KEYS[1], 'role')
if not r then
    redis.call('HSET', KEYS[1], 'role', ARGV[1])
    return ARGV[1]
end
return r

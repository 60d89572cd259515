-- A connection of the user ended.
--  KEYS as presence_connect.lua.  ARGV[1] user id  ARGV[2] connection id  ARGV[3] now ms
--  ARGV[4] '1' when the user signed out
-- Returns the number of live connections left. Without a sign-out, a user left with none stays
-- visible until presence_confirm_lost.lua (after the grace period, or the sweeper).
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
local count = redis.call('ZCARD', KEYS[2])
redis.call('HSET', KEYS[1], 'last_seen', ARGV[3])
if count == 0 and ARGV[4] == '1' then
    if KEYS[3] ~= KEYS[1] then
        redis.call('ZREM', KEYS[3], ARGV[1])
    end
    if redis.call('HGET', KEYS[1], 'presence') ~= 'offline' then
        redis.call('HSET', KEYS[1], 'presence', 'offline', 'lost', '0')
        notify_contacts(KEYS[4], ARGV[1], 'offline', ARGV[3], '0')
    end
end
return count

-- Removes a specialist from the directory (confide-admin). Their conversations stay; they can no
-- longer sign in as a specialist, and nobody can start an inquiry to them.
--  KEYS[1] the directory entry  KEYS[2] directory  KEYS[3] directory version  ARGV[1] id
-- Returns {'ok', 1} when removed, {'ok', 0} when they were not listed.
local removed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if removed == 1 then
    redis.call('INCR', KEYS[3])
end
return {'ok', removed}

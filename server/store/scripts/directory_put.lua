-- Lists a specialist, or replaces their entry (confide-admin).
--  KEYS[1] the directory entry  KEYS[2] user  KEYS[3] directory  KEYS[4] directory version
--  ARGV[1] id  ARGV[2] 'add' (must not be listed) | 'update' (must be listed) | 'put' (either:
--  on a Redis Cluster, an add that finds an entry the directory's index lacks, left by an add
--  stopped between its steps)
-- On a Redis Cluster KEYS[3] and KEYS[4] are KEYS[1] (the global keys are in other slots): the
-- server adds the id to the index and moves the version as steps of their own.
--  ARGV[3..] the entry's fields and values
-- Returns {'ok'} | {'err', CODE, message}.
local exists = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[2] == 'add' and exists then
    return {'err', 'CONFLICT', ARGV[1] .. ' is listed already (change the entry with update)'}
end
if ARGV[2] == 'update' and not exists then
    return {'err', 'NOT_FOUND', ARGV[1] .. ' is not listed (list them with add)'}
end
if redis.call('HGET', KEYS[2], 'role') == 'client' then
    return {'err', 'FAILED_PRECONDITION',
            ARGV[1] .. ' has signed in as a client: a specialist needs an id of their own'}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if KEYS[3] ~= KEYS[1] then
    redis.call('ZADD', KEYS[3], 0, ARGV[1])
    redis.call('INCR', KEYS[4])
end
return {'ok'}

-- Checks a token's role against the directory, and binds it on first sight.
--  KEYS[1] user  KEYS[2] the user's directory entry  KEYS[3] directory  KEYS[4] directory version
--  ARGV[1] 'client' | 'specialist'  ARGV[2] user id  ARGV[3] '1' when the directory is open
--  (development: an unlisted specialist is listed at sign-in)  ARGV[4] now ms
-- On a Redis Cluster KEYS[3] and KEYS[4] are KEYS[1] (the global keys are in other slots): the
-- server lists the specialist in the directory's index as a step of its own.
-- Returns {'ok', role} | {'err', 'UNAUTHENTICATED', why}.
local wanted, id = ARGV[1], ARGV[2]
local stored = redis.call('HGET', KEYS[1], 'role')
local listed = redis.call('EXISTS', KEYS[2]) == 1
if wanted == 'specialist' then
    if stored == 'client' then
        return {'err', 'UNAUTHENTICATED', 'this user is registered as a client, not as a specialist'}
    end
    if not listed then
        if ARGV[3] ~= '1' then
            return {'err', 'UNAUTHENTICATED',
                    'this user is not listed in the directory of specialists (an operator lists ' ..
                    'specialists with confide-admin)'}
        end
        redis.call('HSET', KEYS[2], 'name', id, 'accepting', '1', 'updated', ARGV[4])
        if KEYS[3] ~= KEYS[1] then
            redis.call('ZADD', KEYS[3], 0, id)
            redis.call('INCR', KEYS[4])
        end
    end
    if not stored then
        redis.call('HSET', KEYS[1], 'role', 'specialist')
    end
    return {'ok', 'specialist'}
end
if listed then
    return {'err', 'UNAUTHENTICATED', 'this user is a listed specialist, not a client'}
end
if stored == 'specialist' then
    -- Before the directory, an inquiry bound its recipient as a specialist. One who never signed
    -- in was named by someone else's inquiry: the person is a client.
    if redis.call('HEXISTS', KEYS[1], 'last_seen') == 1 then
        return {'err', 'UNAUTHENTICATED', 'this user is registered as a specialist, not as a client'}
    end
    redis.call('HSET', KEYS[1], 'role', 'client')
    return {'ok', 'client'}
end
if not stored then
    redis.call('HSET', KEYS[1], 'role', 'client')
end
return {'ok', 'client'}

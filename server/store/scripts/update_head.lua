-- The conversation's part of a state change, the start of update.lua (one Redis: the whole
-- change in one script) and of conversation_state.lua (a Redis Cluster: the conversation's
-- step); prepended to both at build time, after the prelude. KEYS[1] conversation; ARGV as
-- update.lua's: ARGV[1] conversation id, ARGV[2] actor ('' for the sweeper's expiry and for a
-- look), ARGV[3] accept | decline | close (and on a cluster expire | peek), ARGV[4] now,
-- ARGV[6] client id, ARGV[7] specialist id, ARGV[8] decline reason. Answers 'err' itself (and
-- for an expiry 'gone' or 'early'); otherwise leaves `m` (client, specialist, the state before,
-- first_reply, expires), `target` and `changed` (false when the target state already holds:
-- nothing was written).
local cid, actor, action, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'state', 'first_reply', 'expires')
if not m[1] or m[1] ~= ARGV[6] or m[2] ~= ARGV[7] or
    (actor ~= '' and actor ~= m[1] and actor ~= m[2]) then
    if action == 'expire' then
        return {'gone'}
    end
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
local target = ({accept = 'active', decline = 'declined', close = 'closed', expire = 'expired',
                 peek = m[3]})[action]
if not target or (actor == '') ~= (action == 'expire' or action == 'peek') then
    return {'err', 'INVALID_ARGUMENT', 'unknown action'}
end
local changed = m[3] ~= target
if changed then
    if action == 'expire' then
        -- Only an inquiry nobody answered, once its time is up.
        if m[3] ~= 'inquiry' or m[4] or (tonumber(m[5]) or 0) == 0 then
            return {'gone'}
        end
        if tonumber(m[5]) > tonumber(now) then
            return {'early'}
        end
    elseif action ~= 'close' then
        if actor ~= m[2] then
            return {'err', 'FORBIDDEN', 'only the specialist can ' .. action .. ' an inquiry'}
        end
        if m[3] ~= 'inquiry' then
            return {'err', 'FAILED_PRECONDITION', 'the conversation is ' .. m[3]}
        end
    elseif m[3] ~= 'inquiry' and m[3] ~= 'active' then
        return {'err', 'FAILED_PRECONDITION', 'the conversation is ' .. m[3]}
    end
    redis.call('HSET', KEYS[1], 'state', target, 'updated', now)
    if m[3] == 'inquiry' then
        -- Answered (or ended): it no longer expires.
        redis.call('HSET', KEYS[1], 'expires', '0')
    end
    if action == 'decline' and ARGV[8] ~= '' then
        redis.call('HSET', KEYS[1], 'decline', ARGV[8])
    end
    if target ~= 'active' then
        redis.call('HDEL', KEYS[1], 'rem_c', 'rem_s')
    end
end

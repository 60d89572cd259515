-- On a Redis Cluster only: the conversation step of accept / decline / close (update.lua's
-- checks and its writes to the conversation) and of the sweeper's expiry (expire.lua's), or a
-- look at the conversation ('peek'). The user steps (user_conversation.lua) and the schedule's
-- step follow, run by the server (docs/design.md, "Redis Cluster").
--  KEYS[1] conversation  KEYS[2] its log
--  ARGV[1] conversation id  ARGV[2] actor ('' for expire and peek)
--  ARGV[3] accept | decline | close | expire | peek  ARGV[4] now ms  ARGV[5] client id
--  ARGV[6] specialist id  ARGV[7] decline reason ('' for none)
-- Returns {'ok', '1' when this call changed the state else '0', the state before, the
-- conversation event's fields but the delivered marks...} | {'gone'} (expire: not an unanswered
-- inquiry, or no such conversation) | {'early'} (expire: not due yet) | {'err', CODE, message}.
-- A state that already holds answers '0' with the event: the server runs the user steps again,
-- which repairs a change whose user steps a crash stopped.
local cid, actor, action, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'state', 'first_reply', 'expires')
if not m[1] or m[1] ~= ARGV[5] or m[2] ~= ARGV[6] or
    (actor ~= '' and actor ~= m[1] and actor ~= m[2]) then
    if action == 'expire' then
        return {'gone'}
    end
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
local target = ({accept = 'active', decline = 'declined', close = 'closed', expire = 'expired',
                 peek = m[3]})[action]
if not target or (actor == '' and action ~= 'expire' and action ~= 'peek') then
    return {'err', 'INVALID_ARGUMENT', 'unknown action'}
end
local function reply(changed)
    local out = {'ok', changed, m[3], 'k', 'c', 'c', cid}
    local meta = redis.call('HMGET', KEYS[1], unpack(conversation_fields))
    for i = 1, #conversation_fields do
        if meta[i] then
            out[#out + 1] = conversation_fields[i]
            out[#out + 1] = meta[i]
        end
    end
    local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
    out[#out + 1] = 'last'
    out[#out + 1] = last[1] and last[1][1] or '0-0'
    return out
end
if m[3] == target then
    return reply('0')
end
if action == 'expire' then
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
    redis.call('HSET', KEYS[1], 'expires', '0')
end
if action == 'decline' and ARGV[7] ~= '' then
    redis.call('HSET', KEYS[1], 'decline', ARGV[7])
end
if target ~= 'active' then
    redis.call('HDEL', KEYS[1], 'rem_c', 'rem_s')
end
return reply('1')

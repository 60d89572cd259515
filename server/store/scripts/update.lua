-- Accept / decline / close a conversation.
--  KEYS[1] conversation  KEYS[2] client user  KEYS[3] client inbox  KEYS[4] client conversations
--  KEYS[5] client's open conversations  KEYS[6] specialist user  KEYS[7] specialist inbox
--  KEYS[8] specialist conversations  KEYS[9] specialist inquiries  KEYS[10] inquiry expiries
--  KEYS[11] reminders due
--  ARGV[1] conversation id  ARGV[2] actor  ARGV[3] accept|decline|close  ARGV[4] now
--  ARGV[5] inbox max length  ARGV[6] client id  ARGV[7] specialist id
--  ARGV[8] decline reason ('' for none)
-- Returns {'ok', <HGETALL of the conversation>...} | {'err', CODE, message}. Repeating an action
-- whose result already holds succeeds without a new event (retries are idempotent).
local cid, actor, action, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'state')
if not m[1] or (actor ~= m[1] and actor ~= m[2]) or m[1] ~= ARGV[6] or m[2] ~= ARGV[7] then
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
local target = ({accept = 'active', decline = 'declined', close = 'closed'})[action]
if not target then
    return {'err', 'INVALID_ARGUMENT', 'unknown action'}
end
local function reply()
    local out = {'ok'}
    local meta = redis.call('HGETALL', KEYS[1])
    for i = 1, #meta do
        out[#out + 1] = meta[i]
    end
    return out
end
if m[3] == target then
    return reply()
end
if action ~= 'close' then
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
    redis.call('ZREM', KEYS[10], cid)
end
if action == 'decline' and ARGV[8] ~= '' then
    redis.call('HSET', KEYS[1], 'decline', ARGV[8])
end
if target ~= 'active' then
    cancel_reminders(KEYS[1], KEYS[11], cid)
end
if target ~= 'active' and redis.call('HGET', KEYS[5], m[2]) == cid then
    redis.call('HDEL', KEYS[5], m[2])
end
redis.call('ZREM', KEYS[9], cid)
redis.call('ZADD', KEYS[4], now, cid)
redis.call('ZADD', KEYS[8], now, cid)
local fields = conversation_event(KEYS[1], cid)
append_event(KEYS[2], KEYS[3], m[1], ARGV[5], fields)
append_event(KEYS[6], KEYS[7], m[2], ARGV[5], fields)
return reply()

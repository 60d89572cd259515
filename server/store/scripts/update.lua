-- Accept / decline / close a conversation: update_head.lua (prepended: the checks and the
-- conversation's writes), then the rest.
--  KEYS[1] conversation  KEYS[2] its log  KEYS[3] client's stream  KEYS[4] specialist's stream
--  KEYS[5] client's open conversations  KEYS[6] specialist's inquiries
--  KEYS[7] client's conversations  KEYS[8] specialist's conversations
--  KEYS[9] client's acks  KEYS[10] specialist's acks (their delivered marks, for the event)
--  KEYS[11] inquiry expiries  KEYS[12] reminders due
--  ARGV[1] conversation id  ARGV[2] actor  ARGV[3] accept|decline|close  ARGV[4] now
--  ARGV[5] stream max length  ARGV[6] client id  ARGV[7] specialist id
--  ARGV[8] decline reason ('' for none)
-- Returns {'ok', <the conversation event's fields>...} | {'err', CODE, message}. Repeating an
-- action whose result already holds succeeds without a new event (retries are idempotent).
local function reply(fields)
    fields = fields or conversation_event(KEYS[1], KEYS[2], KEYS[9], KEYS[10], cid)
    local out = {'ok'}
    for i = 1, #fields do
        out[#out + 1] = fields[i]
    end
    return out
end
if not changed then
    return reply()
end
if m[3] == 'inquiry' then
    redis.call('ZREM', KEYS[11], cid)
end
if target ~= 'active' then
    redis.call('ZREM', KEYS[12], cid .. '|c', cid .. '|s')
end
if target ~= 'active' and redis.call('HGET', KEYS[5], m[2]) == cid then
    redis.call('HDEL', KEYS[5], m[2])
end
redis.call('ZREM', KEYS[6], cid)
redis.call('ZADD', KEYS[7], now, cid)
redis.call('ZADD', KEYS[8], now, cid)
local fields = conversation_event(KEYS[1], KEYS[2], KEYS[9], KEYS[10], cid)
append_event(KEYS[3], m[1], ARGV[5], fields)
append_event(KEYS[4], m[2], ARGV[5], fields)
return reply(fields)

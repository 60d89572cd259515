-- Erases a conversation (store/erasure.cpp): its data key (crypto-shredding: every sealed copy
-- of its records, in the AOF and RDB files too, can no longer be opened), its log, its dedupe
-- records, topic and preferred times, and its entries in the indexes; what stays is a tombstone
-- (parties, state 'erased', times) so that a party still sees it, as erased.
--  KEYS[1] conversation  KEYS[2] its log  KEYS[3] client's stream  KEYS[4] specialist's stream
--  KEYS[5] client's open conversations  KEYS[6] specialist's inquiries
--  KEYS[7] client's conversations  KEYS[8] specialist's conversations
--  KEYS[9] client's acks  KEYS[10] specialist's acks  KEYS[11] inquiry expiries
--  KEYS[12] reminders due
--  ARGV[1] conversation id  ARGV[2] now  ARGV[3] stream max length
--  ARGV[4] the party whose account is erased ('c' or 's': they get no event), or '' (both do)
--  ARGV[5] client id  ARGV[6] specialist id (as read with the keys above)
-- On a Redis Cluster KEYS[3..12] are KEYS[1] (the parties' keys and the schedule are in other
-- slots): this is the conversation's step only, and the server runs the parties' steps and the
-- schedule's after it (store/erasure.cpp).
-- Returns {'ok', 'erased' | 'again'} | {'err', CODE, message}. Erasing again is harmless.
local cid, now = ARGV[1], ARGV[2]
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'state', 'created')
if not m[1] then
    return {'err', 'NOT_FOUND', 'no such conversation'}
end
if m[1] ~= ARGV[5] or m[2] ~= ARGV[6] then
    return {'err', 'CONFLICT', 'the parties changed meanwhile'}
end
local again = m[3] == 'erased' and redis.call('HEXISTS', KEYS[1], 'dk') == 0 and
                  redis.call('EXISTS', KEYS[2]) == 0
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'client', m[1], 'specialist', m[2], 'state', 'erased', 'created',
           m[4] or now, 'updated', now)
if KEYS[3] == KEYS[1] then
    return {'ok', again and 'again' or 'erased'}
end
redis.call('ZREM', KEYS[11], cid)
redis.call('ZREM', KEYS[12], cid .. '|c', cid .. '|s')
if redis.call('HGET', KEYS[5], m[2]) == cid then
    redis.call('HDEL', KEYS[5], m[2])
end
redis.call('ZREM', KEYS[6], cid)
redis.call('HDEL', KEYS[9], 'd:' .. cid)
redis.call('HDEL', KEYS[10], 'd:' .. cid)
if again then
    return {'ok', 'again'}
end
redis.call('ZADD', KEYS[7], now, cid)
redis.call('ZADD', KEYS[8], now, cid)
local fields = conversation_event(KEYS[1], KEYS[2], KEYS[9], KEYS[10], cid)
if ARGV[4] ~= 'c' then
    append_event(KEYS[3], m[1], ARGV[3], fields)
end
if ARGV[4] ~= 's' then
    append_event(KEYS[4], m[2], ARGV[3], fields)
end
return {'ok', 'erased'}

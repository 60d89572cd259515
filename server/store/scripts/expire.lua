-- An inquiry's time is up: if it is still unanswered, it expires and both parties are told.
--  KEYS[1] conversation  KEYS[2] inquiry expiries  KEYS[3] conversation log
--  KEYS[4] client's stream  KEYS[5] client conversations  KEYS[6] client's open conversations
--  KEYS[7] client's acks  KEYS[8] specialist's stream  KEYS[9] specialist conversations
--  KEYS[10] specialist inquiries  KEYS[11] reminders due  KEYS[12] specialist's acks
--  ARGV[1] conversation id  ARGV[2] now ms  ARGV[3] inbox max length  ARGV[4] client id
--  ARGV[5] specialist id
-- Returns {'ok'} when this call expired it, {'gone'} when there was nothing (any more) to do,
-- {'early'} when it is not due yet. The entry of KEYS[2] is removed in the same step that acts on
-- it, so however many nodes sweep, each inquiry expires once and both parties hear it once.
local cid, now = ARGV[1], ARGV[2]
local due = redis.call('ZSCORE', KEYS[2], cid)
if not due then
    return {'gone'}
end
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'state', 'first_reply')
if not m[1] or m[1] ~= ARGV[4] or m[2] ~= ARGV[5] or m[3] ~= 'inquiry' or m[4] then
    redis.call('ZREM', KEYS[2], cid)
    return {'gone'}
end
if tonumber(due) > tonumber(now) then
    return {'early'}
end
redis.call('ZREM', KEYS[2], cid)
redis.call('HSET', KEYS[1], 'state', 'expired', 'updated', now)
if redis.call('HGET', KEYS[6], m[2]) == cid then
    redis.call('HDEL', KEYS[6], m[2])
end
redis.call('ZREM', KEYS[10], cid)
redis.call('ZADD', KEYS[5], now, cid)
redis.call('ZADD', KEYS[9], now, cid)
cancel_reminders(KEYS[1], KEYS[11], cid)
local fields = conversation_event(KEYS[1], KEYS[3], KEYS[7], KEYS[12], cid)
append_event(KEYS[4], m[1], ARGV[3], fields)
append_event(KEYS[8], m[2], ARGV[3], fields)
return {'ok'}

-- On a Redis Cluster only: the user step of a conversation's creation or state change
-- (docs/design.md, "Redis Cluster"): the user's indexes, the conversation event appended to the
-- user's stream and its wake-up SPUBLISHed to the user's shard channel, in the user's slot.
-- Idempotent: a conversation's states only move forward (inquiry, then active, then over), and
-- the user's `:appended` hash keeps per conversation ('e:<id>') the state of the last event
-- appended, so a retry or a second sweeper appends nothing twice and an older state never
-- follows a newer one.
--  KEYS[1] the user's stream  KEYS[2] the user's appended hash  KEYS[3] the user's conversations
--  KEYS[4] the user's contacts  KEYS[5] (client) open conversations | (specialist) inquiries
--  ARGV[1] stream max length  ARGV[2] the user's shard channel  ARGV[3] conversation id
--  ARGV[4] now ms  ARGV[5] 'c' | 's' (the user's side)  ARGV[6] the other party
--  ARGV[7] the state the event reports  ARGV[8..] the event's fields
-- Returns {'ok', event id} | {'dup'}.
local rank = {inquiry = 1, active = 2, declined = 3, closed = 3, expired = 3}
local cid, state = ARGV[3], ARGV[7]
redis.call('SADD', KEYS[4], ARGV[6])
local mark = 'e:' .. cid
local had = redis.call('HGET', KEYS[2], mark)
if had and (rank[had] or 9) >= (rank[state] or 9) then
    return {'dup'}
end
redis.call('ZADD', KEYS[3], ARGV[4], cid)
if ARGV[5] == 's' then
    if state == 'inquiry' then
        redis.call('ZADD', KEYS[5], ARGV[4], cid)
    else
        redis.call('ZREM', KEYS[5], cid)
    end
elseif state ~= 'inquiry' and state ~= 'active' and redis.call('HGET', KEYS[5], ARGV[6]) == cid then
    redis.call('HDEL', KEYS[5], ARGV[6])
end
local fields = {unpack(ARGV, 8)}
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '0-*', unpack(fields))
redis.call('SPUBLISH', ARGV[2], 'E' .. table.concat(enc(fields, {#id .. ':' .. id})))
redis.call('HSET', KEYS[2], mark, state)
return {'ok', id}

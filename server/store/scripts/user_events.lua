-- On a Redis Cluster only: a user step (docs/design.md, "Redis Cluster"). Appends pointers to
-- messages of one conversation to the user's stream, in seq order, each exactly once, and wakes
-- the user's connections (SPUBLISH to their shard channel, in the user's slot: no appended
-- event misses its wake-up). Idempotent by (conversation, seq): the user's `:appended` hash
-- keeps, per conversation, the last seq appended and its event id.
--  KEYS[1] the user's stream  KEYS[2] the user's appended hash
--  ARGV[1] stream max length  ARGV[2] the user's shard channel  ARGV[3] conversation id
--  then per message, in seq order, 3 values: seq, log id, the notice but its ids
-- Returns {'ok', last seq appended, its event id} when the last message given is in the stream
-- (now or before) | {'gap', last seq appended}: a message before the first one given is
-- missing (its send stopped between steps): the server reads it from the log and sends it too |
-- {'new'}: the stream has no event of the conversation yet (an inquiry whose user steps a crash
-- cut short): the server appends the conversation's event first (user_conversation.lua).
if redis.call('HEXISTS', KEYS[2], 'e:' .. ARGV[3]) == 0 then
    return {'new'}
end
local last = redis.call('HGET', KEYS[2], ARGV[3])
local have, event = 0, ''
if last then
    local sp = string.find(last, ' ', 1, true)
    have = tonumber(string.sub(last, 1, sp - 1))
    event = string.sub(last, sp + 1)
end
if have >= tonumber(ARGV[#ARGV - 2]) then
    return {'dup', tostring(have), event}
end
if have + 1 < tonumber(ARGV[4]) then
    return {'gap', tostring(have)}
end
local seq
for i = 4, #ARGV, 3 do
    if tonumber(ARGV[i]) > have then
        event = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '0-*', 'c', ARGV[3], 'q',
                           ARGV[i + 1])
        redis.call('SPUBLISH', ARGV[2], ARGV[i + 2] .. ARGV[i + 1] .. ' ' .. event)
        seq = ARGV[i]
    end
end
redis.call('HSET', KEYS[2], ARGV[3], seq .. ' ' .. event)
return {'ok', seq, event}

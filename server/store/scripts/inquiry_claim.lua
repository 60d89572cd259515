-- On a Redis Cluster only: the first step of an inquiry, in the client's slot (docs/design.md,
-- "Redis Cluster"). It binds this client_msg_id to the conversation the server chose (the
-- inquiry record) and, for a new conversation, makes it the client's open conversation with the
-- specialist, before the conversation exists: a retry of the same inquiry then finds the
-- conversation whatever step a crash stopped at, and two devices of one client writing to one
-- specialist at once still open one conversation (the second one reads again).
--  KEYS[1] the inquiry record of this client_msg_id  KEYS[2] the client's open conversations
--  ARGV[1] specialist id  ARGV[2] the conversation the server chose
--  ARGV[3] the open conversation the server found ('' if none)  ARGV[4] record ttl s
--  ARGV[5] a conversation the server found named as open although it is over ('' if none): a
--  state change whose client step a crash stopped (the entry goes now)
-- Returns {'ok'} | {'retry'}: what the server read changed meanwhile; it reads again.
local rec = redis.call('GET', KEYS[1])
if rec then
    if rec == ARGV[2] then
        return {'ok'}
    end
    return {'retry'}
end
local open = redis.call('HGET', KEYS[2], ARGV[1]) or ''
if open ~= '' and open == ARGV[5] then
    redis.call('HDEL', KEYS[2], ARGV[1])
    open = ''
end
if open ~= ARGV[3] then
    return {'retry'}
end
if open == '' then
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[4])
return {'ok'}

-- On a Redis Cluster only: the conversation step of an inquiry (docs/design.md, "Redis
-- Cluster"): creates the conversation when the server sealed for a new one, then stores the
-- message as a send's conversation step (send_head.lua and send_conversation.lua follow this
-- at build time). Idempotent: a retry finds the dedupe record.
--  KEYS[1] conversation  KEYS[2] its log  ARGV[1..18] as send.lua's (ARGV[1] and ARGV[5] the
--  client; ARGV[14] 'rem_s')  ARGV[19] specialist id  ARGV[20] free consultation ('1'/'0')
--  ARGV[21] topic  ARGV[22] preferred times  ARGV[23] expires at ms
--  ARGV[24] the new conversation's wrapped data key ('' in plaintext storage)
--  ARGV[25] '1' when the body was sealed for a new conversation (under ARGV[24]), else '0'
-- Returns as send_conversation.lua, or {'retry'}: the conversation exists already without this
-- message (the body was sealed under another key); the server reads it and seals again.
if ARGV[25] == '1' then
    if redis.call('EXISTS', KEYS[1]) == 1 then
        local r = redis.call('HGET', KEYS[1], ARGV[2])
        if r then
            return {'dup', r}
        end
        return {'retry'}
    end
    local now = ARGV[7]
    redis.call('HSET', KEYS[1], 'client', ARGV[1], 'specialist', ARGV[19], 'state', 'inquiry',
               'free', ARGV[20], 'created', now, 'updated', now, 'read_c', '0', 'read_s', '0',
               'unread_c', '0', 'unread_s', '0', 'topic', ARGV[21], 'pref', ARGV[22], 'expires',
               ARGV[23])
    if ARGV[24] ~= '' then
        redis.call('HSET', KEYS[1], 'dk', ARGV[24])
    end
end

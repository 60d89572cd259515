-- A client writes to a specialist: into their open conversation, or a new one (an inquiry).
--  KEYS[1..4], ARGV[1..13] as send.lua (ARGV[1] and ARGV[5] are the client), for the open
--  conversation the server found or a new one; then:
--  KEYS[5] specialist's directory entry  KEYS[6] client's open conversations (specialist -> id)
--  KEYS[7] specialist's inquiries  KEYS[8] client's conversations  KEYS[9] specialist's
--  conversations  KEYS[10] client contacts  KEYS[11] specialist contacts
--  KEYS[12] the client's inquiry record of this client_msg_id (-> the conversation it went to)
--  KEYS[13] inquiry expiries  KEYS[14] reminders due  KEYS[15] retention index
--  ARGV[14] specialist id  ARGV[15] free consultation ('1'/'0')
--  ARGV[16] the open conversation the server found ('' if none)  ARGV[17] record ttl s
--  ARGV[18] topic  ARGV[19] preferred times ("<start>-<end>,...")  ARGV[20] expires at ms
--  ARGV[21] the specialist's reminder delay ms
--  ARGV[22] a new conversation's wrapped data key ('' in plaintext storage)
--  ARGV[23] the seq the body was sealed for (1 for a new conversation), as send.lua's ARGV[18]
-- Returns as send.lua, or {'retry'}: what the server read before changed meanwhile (another
-- device of the client wrote at the same moment); it reads again.
local cid, client, specialist, now, maxlen = ARGV[10], ARGV[1], ARGV[14], ARGV[7], ARGV[9]
-- A retry after the first attempt went through: the record names the conversation (it may be
-- closed by now, and a new one open with this specialist).
local rec = redis.call('GET', KEYS[12])
if rec then
    if rec ~= cid then
        return {'retry'}
    end
    local r = redis.call('HGET', KEYS[1], ARGV[2])
    if r then
        return {'dup', r}
    end
    -- Its message is gone (retention trimmed it, with its dedupe record): a resend of the id is
    -- a new message, as for send_message. The server reads again without the record and seals
    -- the body for the conversation it then finds.
    redis.call('DEL', KEYS[12])
    return {'retry'}
end
if client == specialist then
    return {'err', 'FORBIDDEN', 'you cannot write to yourself'}
end
local open = redis.call('HGET', KEYS[6], specialist) or ''
if open ~= ARGV[16] then
    return {'retry'}
end
local unread = 1
if open == '' then
    if redis.call('EXISTS', KEYS[1]) == 1 then
        return {'retry'}
    end
    -- Only the directory makes a specialist: an inquiry to anyone else binds nothing.
    local accepting = redis.call('HGET', KEYS[5], 'accepting')
    if not accepting then
        return {'err', 'NOT_FOUND', 'no specialist with this id is listed'}
    end
    if accepting ~= '1' then
        return {'err', 'FAILED_PRECONDITION', 'this specialist is not accepting new clients'}
    end
    local fields = {'k', 'c', 'c', cid, 'client', client, 'specialist', specialist, 'state',
                    'inquiry', 'free', ARGV[15], 'created', now, 'updated', now, 'read_c', '0',
                    'read_s', '0', 'unread_c', '0', 'unread_s', '0', 'topic', ARGV[18], 'pref',
                    ARGV[19], 'expires', ARGV[20]}
    if ARGV[23] ~= '1' then
        return {'seq', '0'}
    end
    redis.call('HSET', KEYS[1], unpack(fields, 5))
    if ARGV[22] ~= '' then
        redis.call('HSET', KEYS[1], 'dk', ARGV[22])
    end
    redis.call('ZADD', KEYS[13], ARGV[20], cid)
    -- A conversation's first message is always its inquiry's: the retention index learns of it
    -- here, and retain.lua keeps the entry as long as the conversation (send.lua needs nothing).
    redis.call('ZADD', KEYS[15], 'NX', now, cid)
    redis.call('HSET', KEYS[6], specialist, cid)
    redis.call('ZADD', KEYS[7], now, cid)
    redis.call('ZADD', KEYS[8], now, cid)
    redis.call('ZADD', KEYS[9], now, cid)
    redis.call('SADD', KEYS[10], specialist)
    redis.call('SADD', KEYS[11], client)
    fields[#fields + 1] = 'last'
    fields[#fields + 1] = '0-0'
    append_event(KEYS[3], client, maxlen, fields)
    append_event(KEYS[4], specialist, maxlen, fields)
else
    local m = redis.call('HMGET', KEYS[1], 'state', ARGV[2], ARGV[4], 'seq')
    if m[2] then
        -- This id went into this conversation another way (send_message): the fingerprint
        -- tells the server whether that is a conflict.
        return {'dup', m[2]}
    end
    if m[1] ~= 'inquiry' and m[1] ~= 'active' then
        return {'retry'}
    end
    unread = (tonumber(m[3]) or 0) + 1
    local last = tonumber(m[4]) or 0
    if last + 1 ~= tonumber(ARGV[23]) then
        return {'seq', tostring(last)}
    end
end
schedule_reminder(KEYS[1], KEYS[14], cid, 's', now, ARGV[21])
local id = redis.call('XADD', KEYS[2], '0-' .. ARGV[23], 's', client, 'i', ARGV[6], 't', now,
                      'b', ARGV[8])
redis.call('HSET', KEYS[1], ARGV[2], id .. ARGV[3], ARGV[4], unread, 'seq', ARGV[23])
local a = redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxlen, '0-*', 'c', cid, 'q', id)
local b = redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '0-*', 'c', cid, 'q', id)
redis.call('PUBLISH', ARGV[11], ARGV[13] .. id .. ' ' .. a)
redis.call('PUBLISH', ARGV[12], ARGV[13] .. id .. ' ' .. b)
redis.call('SET', KEYS[12], cid, 'EX', ARGV[17])
return {'ok', id, a, b}

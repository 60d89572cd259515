-- A client writes to a specialist: into their open conversation, or a new one (an inquiry).
-- KEYS[1..9] and ARGV[1..9] as commit_message (prelude), where KEYS[1..2] and ARGV[1] are the
-- open conversation the caller found, or a new one; then:
--  KEYS[10] client's open conversations (specialist -> id)  KEYS[11] specialist's inquiries
--  KEYS[12] client contacts  KEYS[13] specialist contacts  KEYS[14] specialist's directory entry
--  KEYS[15] inquiry expiries  KEYS[16] reminders due
--  ARGV[10] free consultation ('1'/'0')  ARGV[11] the open conversation the caller found ('' if none)
--  ARGV[12] topic  ARGV[13] preferred times ("<start>-<end>,...")  ARGV[14] expires at ms
--  ARGV[15] the specialist's reminder delay ms
-- Returns {'ok', cid, seq, time} | {'dup', ...} | {'retry'} (the open conversation changed
-- meanwhile: look again) | {'err', CODE, message}.
local cid, client, specialist, now = ARGV[1], ARGV[8], ARGV[9], ARGV[5]
-- A retry may land in another conversation (the first one got closed): fingerprint the recipient.
local fingerprint = redis.sha1hex('inquiry\0' .. specialist .. '\0' .. ARGV[4])
local sent = check_sent(KEYS[3], fingerprint)
if sent then
    return sent
end
if client == specialist then
    return {'err', 'FORBIDDEN', 'you cannot write to yourself'}
end
local open = redis.call('HGET', KEYS[10], specialist) or ''
if open ~= ARGV[11] then
    return {'retry'}
end
if open == '' then
    if redis.call('EXISTS', KEYS[1]) == 1 then
        return {'retry'}
    end
    -- Only the directory makes a specialist: an inquiry to anyone else binds nothing.
    local accepting = redis.call('HGET', KEYS[14], 'accepting')
    if not accepting then
        return {'err', 'NOT_FOUND', 'no specialist with this id is listed'}
    end
    if accepting ~= '1' then
        return {'err', 'FAILED_PRECONDITION', 'this specialist is not accepting new clients'}
    end
    redis.call('HSET', KEYS[1], 'client', client, 'specialist', specialist, 'state', 'inquiry',
               'free', ARGV[10], 'created', now, 'updated', now, 'seq', '0', 'read_c', '0',
               'read_s', '0', 'dlv_c', '0', 'dlv_s', '0', 'unread_c', '0', 'unread_s', '0',
               'topic', ARGV[12], 'pref', ARGV[13], 'expires', ARGV[14])
    redis.call('ZADD', KEYS[15], ARGV[14], cid)
    redis.call('HSET', KEYS[10], specialist, cid)
    redis.call('ZADD', KEYS[11], now, cid)
    redis.call('SADD', KEYS[12], specialist)
    redis.call('SADD', KEYS[13], client)
    local fields = conversation_event(KEYS[1], cid)
    append_event(KEYS[4], KEYS[5], client, ARGV[7], fields)
    append_event(KEYS[7], KEYS[8], specialist, ARGV[7], fields)
else
    local state = redis.call('HGET', KEYS[1], 'state')
    if state ~= 'inquiry' and state ~= 'active' then
        return {'retry'}
    end
end
return commit_message(fingerprint, true, KEYS[16], ARGV[15])

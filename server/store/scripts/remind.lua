-- Sends an unread reminder, once: a content-free entry in the reminder stream for the platform's
-- mailer (recipient, their role, conversation, since when and how long unread, how many).
--  KEYS[1] conversation  KEYS[2] reminders due  KEYS[3] reminder stream
--  ARGV[1] conversation id  ARGV[2] 'c' or 's' (the recipient)  ARGV[3] now ms
--  ARGV[4] the burst's start the caller saw  ARGV[5] stream max length
-- Returns {'ok'} when this call sent it; {'gone'} when there is nothing to send (read, sent by
-- another node, conversation over); {'moved'} when a partial read moved the burst's start (the
-- reminder stays scheduled at its new time). Removing the schedule entry and appending happen in
-- one step: whatever the number of nodes, a burst gets one reminder.
local cid, party, now = ARGV[1], ARGV[2], ARGV[3]
local member = cid .. '|' .. party
if not redis.call('ZSCORE', KEYS[2], member) then
    return {'gone'}
end
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'state', 'rem_' .. party,
                     'unread_' .. party)
if not m[1] or (m[3] ~= 'inquiry' and m[3] ~= 'active') or not m[4] or m[4] == 'sent' or
    tonumber(m[5]) == 0 then
    redis.call('ZREM', KEYS[2], member)
    if m[4] ~= 'sent' then
        redis.call('HDEL', KEYS[1], 'rem_' .. party)
    end
    return {'gone'}
end
if m[4] ~= ARGV[4] then
    return {'moved'}
end
redis.call('ZREM', KEYS[2], member)
redis.call('HSET', KEYS[1], 'rem_' .. party, 'sent')
local user = party == 'c' and m[1] or m[2]
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'user', user, 'role',
           party == 'c' and 'client' or 'specialist', 'conversation', cid, 'unread_since', m[4],
           'waited_ms', tostring(tonumber(now) - tonumber(m[4])), 'unread', m[5], 'at', now)
return {'ok'}

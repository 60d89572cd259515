-- On a Redis Cluster only: the conversation steps of an unread reminder (remind.lua's checks,
-- docs/design.md, "Redis Cluster"): 'check' before the reminder is appended to the stream (a
-- step in the stream's slot, deduplicated there), 'mark' after it. The server removes the
-- schedule entry last, so a crash anywhere leaves it due and the next sweep completes it.
--  KEYS[1] conversation  ARGV[1] 'c' or 's' (the recipient)  ARGV[2] the burst's start the
--  caller saw  ARGV[3] 'check' | 'mark'
-- Returns {'ok', recipient, unread} | {'gone'} (read, sent, conversation over) | {'moved'} (a
-- partial read moved the burst's start: the reminder stays scheduled at its new time).
local party = ARGV[1]
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'state', 'rem_' .. party,
                     'unread_' .. party)
if not m[1] or (m[3] ~= 'inquiry' and m[3] ~= 'active') or not m[4] or m[4] == 'sent' or
    tonumber(m[5]) == 0 then
    if m[4] and m[4] ~= 'sent' then
        redis.call('HDEL', KEYS[1], 'rem_' .. party)
    end
    return {'gone'}
end
if m[4] ~= ARGV[2] then
    return {'moved'}
end
if ARGV[3] == 'mark' then
    redis.call('HSET', KEYS[1], 'rem_' .. party, 'sent')
end
return {'ok', party == 'c' and m[1] or m[2], m[5]}

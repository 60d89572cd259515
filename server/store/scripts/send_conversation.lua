-- On a Redis Cluster only: the conversation step of a send (docs/design.md, "Redis Cluster").
-- send.lua's checks and writes to the conversation's own slot; the pointers in both parties'
-- streams are the user steps (user_events.lua) and the schedule entries a step of their own,
-- which the server runs after this one, and acks only after all of them.
--  KEYS[1] conversation  KEYS[2] its log
--  ARGV[1] client id (membership)  ARGV[2] dedupe field  ARGV[3] ' <now ms> <fingerprint>'
--  ARGV[4] the other party's unread field  ARGV[5] sender  ARGV[6] client_msg_id  ARGV[7] now ms
--  ARGV[8] body (sealed for ARGV[10])  ARGV[9] the other party's reminder field
--  ARGV[10] the seq the body was sealed for (as send.lua's ARGV[18])
-- Returns {'ok', log id, '1' when the other party's reminder starts with this message else '0',
-- the ms the specialist's first reply took or ''} | {'dup', record} | {'seq', last seq} |
-- {'err', CODE, message}.
local m = redis.call('HMGET', KEYS[1], 'client', 'state', ARGV[2], ARGV[4], ARGV[9],
                     'first_reply', 'created', 'seq')
if m[1] ~= ARGV[1] then
    return {'err', 'FORBIDDEN', 'no such conversation'}
end
if m[3] then
    return {'dup', m[3]}
end
if m[2] ~= 'inquiry' and m[2] ~= 'active' then
    return {'err', 'FAILED_PRECONDITION', 'the conversation is ' .. m[2]}
end
local last = tonumber(m[8]) or 0
if last + 1 ~= tonumber(ARGV[10]) then
    return {'seq', tostring(last)}
end
local id = redis.call('XADD', KEYS[2], '0-' .. ARGV[10], 's', ARGV[5], 'i', ARGV[6], 't', ARGV[7],
                      'b', ARGV[8])
local set = {ARGV[2], id .. ARGV[3], ARGV[4], (tonumber(m[4]) or 0) + 1, 'seq', ARGV[10]}
local remind = '0'
if not m[5] then
    set[#set + 1] = ARGV[9]
    set[#set + 1] = ARGV[7]
    remind = '1'
end
local took = ''
if ARGV[5] ~= ARGV[1] and not m[6] then
    set[#set + 1] = 'first_reply'
    set[#set + 1] = ARGV[7]
    set[#set + 1] = 'expires'
    set[#set + 1] = '0'
    took = tostring(math.max(0, tonumber(ARGV[7]) - (tonumber(m[7]) or tonumber(ARGV[7]))))
end
redis.call('HSET', KEYS[1], unpack(set))
return {'ok', id, remind, took}

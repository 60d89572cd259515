-- The conversation's part of a send, the start of send.lua (one Redis: the whole send in one
-- script) and of send_conversation.lua (a Redis Cluster: the conversation's step); prepended to
-- both at build time. KEYS[1] conversation, KEYS[2] its log; ARGV as send.lua's. Answers 'err',
-- 'dup' or 'seq' itself; otherwise leaves `id` (the log id), `set` (the conversation's HSET),
-- `remind` (true when the other party's reminder starts with this message) and `took` (on the
-- specialist's first reply, the ms since the inquiry; else nil).
local m = redis.call('HMGET', KEYS[1], 'client', 'state', ARGV[2], ARGV[4], ARGV[14],
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
if last + 1 ~= tonumber(ARGV[18]) then
    return {'seq', tostring(last)}
end
local id = redis.call('XADD', KEYS[2], '0-' .. ARGV[18], 's', ARGV[5], 'i', ARGV[6], 't', ARGV[7],
                      'b', ARGV[8])
local set = {ARGV[2], id .. ARGV[3], ARGV[4], (tonumber(m[4]) or 0) + 1, 'seq', ARGV[18]}
local remind = not m[5]
if remind then
    -- The first message the other party has not read: their reminder counts from it.
    set[#set + 1] = ARGV[14]
    set[#set + 1] = ARGV[7]
end
local took = nil
if ARGV[5] ~= ARGV[1] and not m[6] then
    -- The specialist's first reply: the inquiry is answered (it no longer expires), and the
    -- time it took is one sample of the specialist's measured reply time.
    set[#set + 1] = 'first_reply'
    set[#set + 1] = ARGV[7]
    set[#set + 1] = 'expires'
    set[#set + 1] = '0'
    took = math.max(0, tonumber(ARGV[7]) - (tonumber(m[7]) or tonumber(ARGV[7])))
end

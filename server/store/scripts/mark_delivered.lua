-- Moves the recipient's delivered mark forward and tells the other party.
--  KEYS[1] conversation  ARGV[1] conversation id  ARGV[2] recipient  ARGV[3] up to seq
-- Returns {'ok', delivered mark}; a conversation the recipient is not in is ignored.
local cid, who = ARGV[1], ARGV[2]
local m = redis.call('HMGET', KEYS[1], 'client', 'specialist', 'seq', 'dlv_c', 'dlv_s')
if not m[1] or (who ~= m[1] and who ~= m[2]) then
    return {'ok', '0'}
end
local mine = who == m[1] and 'c' or 's'
local other = who == m[1] and m[2] or m[1]
local old = tonumber(who == m[1] and m[4] or m[5])
local up = math.min(tonumber(ARGV[3]), tonumber(m[3]))
if up <= old then
    return {'ok', tostring(old)}
end
redis.call('HSET', KEYS[1], 'dlv_' .. mine, tostring(up))
redis.call('PUBLISH', channel_of(other), 'R' .. table.concat(enc({cid, who, 'd', tostring(up)})))
return {'ok', tostring(up)}

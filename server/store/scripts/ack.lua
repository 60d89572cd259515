-- A device acks the events it processed: its cursor and the user's delivered marks move forward,
-- in the user's own hash only (one HMGET, at most one HSET), and each mark that moved sends its
-- DELIVERED receipt (built by the server) to the other party.
--  KEYS[1] the user's acks hash
--  ARGV[1] the device's field ('v:<device id>')  ARGV[2] the n of the acked cursor ('0-<n>')
--  then per conversation, 4 values: its mark field ('d:<conversation id>'), delivered up to seq,
--  the other party's channel, the receipt to publish there if the mark moves
-- Returns the number of fields that moved.
local fields = {ARGV[1]}
for i = 3, #ARGV, 4 do
    fields[#fields + 1] = ARGV[i]
end
local old = redis.call('HMGET', KEYS[1], unpack(fields))
local set = {}
if (tonumber(old[1]) or -1) < tonumber(ARGV[2]) then
    set[1] = ARGV[1]
    set[2] = ARGV[2]
end
for j = 2, #old do
    local i = 4 * j - 5
    if (tonumber(old[j]) or 0) < tonumber(ARGV[i + 1]) then
        set[#set + 1] = ARGV[i]
        set[#set + 1] = ARGV[i + 1]
        redis.call('PUBLISH', ARGV[i + 2], ARGV[i + 3])
    end
end
if #set > 0 then
    redis.call('HSET', KEYS[1], unpack(set))
end
return #set / 2

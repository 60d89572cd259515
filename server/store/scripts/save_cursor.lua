-- Moves a device's stored cursor forward only (a late ack from an older connection of the same
-- device must not move it back, or the device would be sent events again).
--  KEYS[1] user devices  ARGV[1] device id  ARGV[2] cursor "<ms>-<seq>"
-- Returns the stored cursor.
local function parse(id)
    local ms, seq = string.match(id or '', '^(%d+)-(%d+)$')
    return tonumber(ms), tonumber(seq)
end
local old = redis.call('HGET', KEYS[1], ARGV[1])
local new_ms, new_seq = parse(ARGV[2])
if not new_ms then
    return old or ''
end
local old_ms, old_seq = parse(old)
if old_ms and (old_ms > new_ms or (old_ms == new_ms and old_seq >= new_seq)) then
    return old
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]

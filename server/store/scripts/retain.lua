-- Retention: deletes one conversation's messages older than the cutoff, oldest first and at most
-- ARGV[3] of them per call: their log entries (a prefix of the log, so one XTRIM MINID), their
-- dedupe records and their share of the unread counts. The conversation's entry in KEYS[3]
-- moves to the time of its oldest kept message in the same atomic step, so however many nodes
-- sweep, each message is trimmed once (and a second call would find nothing older anyway).
--  KEYS[1] conversation  KEYS[2] its log  KEYS[3] retention index (cid -> oldest message time);
--  on a Redis Cluster no KEYS[3]: the index is in another slot, and the server writes the
--  returned score there after this step (docs/design.md, "Redis Cluster")
--  ARGV[1] conversation id  ARGV[2] cutoff ms (a message with t < cutoff goes)
--  ARGV[3] at most this many messages  ARGV[4] now ms
-- Returns {'ok', trimmed, due, the entry's new score} (due '1': older messages remain for another
-- call) | {'gone'}.
local cid, cutoff, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local index = KEYS[3]
if index then
    local score = redis.call('ZSCORE', index, cid)
    if not score then
        return {'gone'}
    end
    if tonumber(score) >= cutoff then
        return {'ok', '0', '0', score}
    end
end
local m = redis.call('HMGET', KEYS[1], 'client', 'state', 'read_c', 'read_s', 'unread_c',
                     'unread_s')
if not m[1] or m[2] == 'erased' then
    -- No such conversation, or erased (its log is gone already): nothing left to age.
    if index then
        redis.call('ZREM', index, cid)
    end
    return {'gone'}
end
local read_c, read_s = tonumber(m[3]) or 0, tonumber(m[4]) or 0
local unread_c, unread_s = tonumber(m[5]) or 0, tonumber(m[6]) or 0
local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', max + 1)
local records, owners = {}, {}
local kept = nil  -- the oldest entry that stays
for i = 1, #entries do
    local id, f = entries[i][1], entries[i][2]  -- fields s, i, t, b as send.lua writes them
    -- Log ids grow with seq, times only about (nodes' clocks differ): trimming a prefix keeps a
    -- message at most that skew longer, and never leaves a hole in the middle of the log.
    if i > max or (tonumber(f[6]) or 0) >= cutoff then
        kept = entries[i]
        break
    end
    local seq = tonumber(string.match(id, '^0%-(%d+)$')) or 0
    local side = f[2] == m[1] and 'c' or 's'
    records[#records + 1] = 'm:' .. side .. ':' .. f[4]
    owners[#owners + 1] = id .. ' '
    -- Unread counts the other party's messages after the reader's mark (as mark_read.lua).
    if side == 's' and seq > read_c then
        unread_c = unread_c - 1
    elseif side == 'c' and seq > read_s then
        unread_s = unread_s - 1
    end
end
local n = #records
if n > 0 then
    -- A dedupe record names its message's log id: only those of the trimmed messages go, and a
    -- resend of such an id afterwards is a new message (docs/privacy.md, "Retention").
    local found = redis.call('HMGET', KEYS[1], unpack(records))
    local gone = {}
    for i = 1, n do
        if found[i] and string.sub(found[i], 1, #owners[i]) == owners[i] then
            gone[#gone + 1] = records[i]
        end
    end
    if #gone > 0 then
        redis.call('HDEL', KEYS[1], unpack(gone))
    end
    redis.call('HSET', KEYS[1], 'unread_c', tostring(math.max(unread_c, 0)), 'unread_s',
               tostring(math.max(unread_s, 0)))
    local last = tonumber(string.match(entries[n][1], '^0%-(%d+)$')) or 0
    redis.call('XTRIM', KEYS[2], 'MINID', kept and kept[1] or ('0-' .. (last + 1)))
end
-- The oldest kept message's time, or for an empty log now (its next message is written after).
local score = ARGV[4]
if kept then
    score = tonumber(kept[2][6]) and kept[2][6] or '0'
end
if index then
    redis.call('ZADD', index, score, cid)
end
return {'ok', tostring(n), (kept and (tonumber(kept[2][6]) or 0) < cutoff) and '1' or '0', score}

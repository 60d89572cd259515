-- Group commit on one Redis (docs/design.md, "Group commit"): the sends that queued while the
-- previous call was in flight, in one call. send_head.lua and send.lua, wrapped at build time in
-- `local function one(KEYS, ARGV) ... end` (prepended), run once per send, in order, on the
-- send's slice of KEYS (7 per send) and ARGV (18 per send): exactly as that many calls of
-- send.lua in a row, so a send sees what the sends before it wrote (the seq of an earlier send
-- to the same conversation). Returns one reply per send, in order, each what send.lua would
-- have answered it ({'ok', ...}, {'dup', ...}, {'seq', ...} or {'err', ...}).
-- A Redis error inside send k (an out-of-memory refusal, say) aborts the call with the sends
-- before k applied: the server answers every send of the call UNAVAILABLE, and those stored
-- already answer 'dup' when their clients retry (same client_msg_id, same body), as after a
-- reply lost in a dropped connection.
local out = {}
for i = 1, #KEYS / 7 do
    local k, a = (i - 1) * 7, (i - 1) * 18
    out[i] = one({unpack(KEYS, k + 1, k + 7)}, {unpack(ARGV, a + 1, a + 18)})
end
return out

-- On a Redis Cluster only: the conversation step of accept / decline / close, of the sweeper's
-- expiry, or a look at the conversation ('peek'): update_head.lua (prepended) and the event's
-- fields. The user steps (user_conversation.lua) and the schedule's step follow, run by the
-- server (docs/design.md, "Redis Cluster").
--  KEYS[1] conversation  KEYS[2] its log  ARGV as update.lua's (ARGV[5] unused); ARGV[2] is ''
--  and ARGV[3] 'expire' or 'peek' for the sweeper and for a look
-- Returns {'ok', '1' when this call changed the state else '0', the state before, the
-- conversation event's fields but the delivered marks...} | {'gone'} (expire: not an unanswered
-- inquiry, or no such conversation) | {'early'} (expire: not due yet) | {'err', CODE, message}.
-- A state that already holds answers '0' with the event: the server runs the user steps again,
-- which repairs a change whose user steps a crash stopped.
local out = {'ok', changed and '1' or '0', m[3]}
local fields = conversation_snapshot(KEYS[1], KEYS[2], cid)
for i = 1, #fields do
    out[#out + 1] = fields[i]
end
return out

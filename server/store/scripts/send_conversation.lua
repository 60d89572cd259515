-- On a Redis Cluster only: the conversation step of a send (docs/design.md, "Redis Cluster"):
-- send_head.lua (prepended) and the conversation's HSET. The pointers in both parties' streams
-- are the user steps (user_events.lua) and the schedule entries a step of their own, which the
-- server runs after this one; it acks only after all of them.
--  KEYS[1] conversation  KEYS[2] its log  ARGV as send.lua's (those of other slots unused)
-- Returns {'ok', log id, '1' when the other party's reminder starts with this message else '0',
-- the ms the specialist's first reply took or ''} | {'dup', record} | {'seq', last seq} |
-- {'err', CODE, message}.
redis.call('HSET', KEYS[1], unpack(set))
return {'ok', id, remind and '1' or '0', took and tostring(took) or ''}

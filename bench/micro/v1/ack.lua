-- A device acks the events it processed, in one step: its cursor moves forward and the user's
-- delivered marks move forward (DELIVERED receipts to the senders).
--  KEYS[1] user devices  KEYS[1 + i] conversation i
--  ARGV[1] user id  ARGV[2] device id  ARGV[3] cursor  ARGV[2 + 2i] conversation i id
--  ARGV[3 + 2i] conversation i delivered up to seq
for i = 1, #KEYS - 1 do
    mark_delivered(KEYS[1 + i], ARGV[2 + 2 * i], ARGV[1], ARGV[3 + 2 * i])
end
return save_cursor_forward(KEYS[1], ARGV[2], ARGV[3])

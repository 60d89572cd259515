-- KEYS[1] user devices  ARGV[1] device id  ARGV[2] cursor. Returns the stored cursor.
return save_cursor_forward(KEYS[1], ARGV[1], ARGV[2])

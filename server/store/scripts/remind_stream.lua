-- On a Redis Cluster only: an unread reminder appended to the mailer's stream once, however
-- many sweepers and crashes (docs/design.md, "Redis Cluster"): KEYS[1] is a marker of this
-- burst's reminder in the stream's slot (its hash tag is the stream's name).
--  KEYS[1] the marker  KEYS[2] the reminder stream  ARGV[1] marker ttl s  ARGV[2] stream max
--  length  ARGV[3..] the entry's fields
-- Returns {'ok'} when appended now | {'dup'}.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
    return {'dup'}
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
return {'ok'}

-- A rotation's compare-and-set of a conversation's wrapped data key (store/key_rotation.cpp).
--  KEYS[1] conversation  ARGV[1] the wrapped key as read  ARGV[2] the same key rewrapped
-- Returns {'ok'} | {'gone'}: the conversation changed meanwhile (erased: its key must stay
-- destroyed, never be written back).
if redis.call('HGET', KEYS[1], 'dk') ~= ARGV[1] then
    return {'gone'}
end
redis.call('HSET', KEYS[1], 'dk', ARGV[2])
return {'ok'}

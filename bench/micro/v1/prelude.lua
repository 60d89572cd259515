-- Shared by every Confide script (prepended at build time). Conventions:
--  * Every value handed to Redis or returned is a string.
--  * Notices published to a user's channel start with one letter (E event, R receipt,
--    P presence, T typing) followed by fields encoded as "<length>:<bytes>" (binary safe).
--  * Replies: {'ok', ...} | {'dup', ...} | {'retry'} | {'err', CODE, message}.

local function enc(values, out)
    out = out or {}
    for i = 1, #values do
        local v = values[i]
        out[#out + 1] = #v .. ':' .. v
    end
    return out
end

-- Must match keys::channel() in server/store/keys.cpp.
local function channel_of(user_id)
    return 'cf:n:{' .. user_id .. '}'
end

-- Appends an event to a user's stream and wakes their connections. fields[4] is the slot of
-- 'n', the gapless per-user event number, filled here. The wake-up is published in the same
-- atomic step as the write, so no committed event can miss its notice.
local function append_event(user_key, inbox_key, user_id, maxlen, fields)
    fields[4] = tostring(redis.call('HINCRBY', user_key, 'n', 1))
    local id = redis.call('XADD', inbox_key, 'MAXLEN', '~', maxlen, '*', unpack(fields))
    local parts = enc(fields, {'E', #id .. ':' .. id})
    redis.call('PUBLISH', channel_of(user_id), table.concat(parts))
    return id
end

-- The record that makes a send idempotent: "<conversation> <seq> <time> <fingerprint>".
local function check_sent(record_key, fingerprint)
    local rec = redis.call('GET', record_key)
    if not rec then
        return nil
    end
    local cid, seq, ts, old = string.match(rec, '^(%S+) (%d+) (%d+) (%x+)$')
    if old ~= fingerprint then
        return {'err', 'CONFLICT', 'this client_msg_id was already used for another message'}
    end
    return {'dup', cid, seq, ts}
end

local function conversation_event(meta_key, cid)
    local fields = {'k', 'c', 'n', '', 'c', cid}
    local meta = redis.call('HGETALL', meta_key)
    for i = 1, #meta do
        fields[#fields + 1] = meta[i]
    end
    return fields
end

local function notify_contacts(contacts_key, user_id, state, last_seen, lost)
    local payload = 'P' .. table.concat(enc({user_id, state, last_seen, lost}))
    local members = redis.call('SMEMBERS', contacts_key)
    for i = 1, #members do
        redis.call('PUBLISH', channel_of(members[i]), payload)
    end
end

-- Message commit shared by send.lua and inquiry.lua. Their KEYS and ARGV start alike:
--  KEYS[1] conversation  KEYS[2] conversation log  KEYS[3] sender's sent record
--  KEYS[4] client user   KEYS[5] client inbox      KEYS[6] client conversations
--  KEYS[7] specialist user  KEYS[8] specialist inbox  KEYS[9] specialist conversations
--  ARGV[1] conversation id  ARGV[2] sender  ARGV[3] client_msg_id  ARGV[4] body  ARGV[5] now ms
--  ARGV[6] sent-record ttl s  ARGV[7] inbox max length  ARGV[8] client id  ARGV[9] specialist id
local function commit_message(fingerprint, sender_is_client)
    local cid, sender, msgid, body, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
    local seq = tostring(redis.call('HINCRBY', KEYS[1], 'seq', 1))
    redis.call('XADD', KEYS[2], '0-' .. seq, 's', sender, 'i', msgid, 't', now, 'b', body)
    redis.call('HSET', KEYS[1], 'updated', now)
    redis.call('HINCRBY', KEYS[1], sender_is_client and 'unread_s' or 'unread_c', 1)
    local fields = {'k', 'm', 'n', '', 'c', cid, 'q', seq, 's', sender, 'i', msgid, 't', now,
                    'b', body}
    append_event(KEYS[4], KEYS[5], ARGV[8], ARGV[7], fields)
    append_event(KEYS[7], KEYS[8], ARGV[9], ARGV[7], fields)
    redis.call('ZADD', KEYS[6], now, cid)
    redis.call('ZADD', KEYS[9], now, cid)
    redis.call('SET', KEYS[3], cid .. ' ' .. seq .. ' ' .. now .. ' ' .. fingerprint, 'EX',
               ARGV[6])
    return {'ok', cid, seq, now}
end

-- Moves a device's stored cursor ("<ms>-<seq>") forward only: a late ack from an older connection
-- of the same device must not move it back, or the device would be sent events again.
local function save_cursor_forward(devices_key, device, cursor)
    local function parse(id)
        local ms, seq = string.match(id or '', '^(%d+)-(%d+)$')
        return tonumber(ms), tonumber(seq)
    end
    local old = redis.call('HGET', devices_key, device)
    local new_ms, new_seq = parse(cursor)
    if not new_ms then
        return old or ''
    end
    local old_ms, old_seq = parse(old)
    if old_ms and (old_ms > new_ms or (old_ms == new_ms and old_seq >= new_seq)) then
        return old
    end
    redis.call('HSET', devices_key, device, cursor)
    return cursor
end

-- Moves `who`'s delivered mark in a conversation forward and tells the other party. A
-- conversation `who` is not a party of is ignored.
local function mark_delivered(meta_key, cid, who, up_to)
    local m = redis.call('HMGET', meta_key, 'client', 'specialist', 'seq', 'dlv_c', 'dlv_s')
    if not m[1] or (who ~= m[1] and who ~= m[2]) then
        return
    end
    local mine = who == m[1] and 'c' or 's'
    local other = who == m[1] and m[2] or m[1]
    local old = tonumber(who == m[1] and m[4] or m[5])
    local up = math.min(tonumber(up_to) or 0, tonumber(m[3]))
    if up <= old then
        return
    end
    redis.call('HSET', meta_key, 'dlv_' .. mine, tostring(up))
    redis.call('PUBLISH', channel_of(other), 'R' .. table.concat(enc({cid, who, 'd', tostring(up)})))
end

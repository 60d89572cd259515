-- Shared by the Confide scripts that are not on the hot path (prepended at build time; send.lua
-- and ack.lua do without it: each local function here is a closure made on every call).
-- Conventions:
--  * Every value handed to Redis or returned is a string.
--  * Notices published to a user's channel start with one letter (E conversation event,
--    R receipt, P presence, T typing; M, a message, is built by the server and send.lua)
--    followed by fields encoded as "<length>:<bytes>" (binary safe).
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

-- Appends an event to a user's stream (id "0-<n>": n is gapless per user) and wakes their
-- connections. The wake-up is published in the same atomic step as the write, so no committed
-- event can miss its notice.
local function append_event(inbox_key, user_id, maxlen, fields)
    local id = redis.call('XADD', inbox_key, 'MAXLEN', '~', maxlen, '0-*', unpack(fields))
    redis.call('PUBLISH', channel_of(user_id), 'E' .. table.concat(enc(fields, {#id .. ':' .. id})))
    return id
end

-- The fields of a conversation event (and of update.lua's reply): k=c, the conversation id, the
-- conversation's own fields, its last log id and both parties' delivered marks. The hash also
-- holds the dedupe records (m:...), hence the named fields.
local conversation_fields = {'client', 'specialist', 'state', 'free', 'created', 'updated',
                             'read_c', 'read_s', 'unread_c', 'unread_s', 'topic', 'pref',
                             'expires', 'decline'}
-- (conversation_snapshot: the same without the marks, which are in the users' slots.)
local function conversation_snapshot(meta_key, log_key, cid)
    local meta = redis.call('HMGET', meta_key, unpack(conversation_fields))
    local fields = {'k', 'c', 'c', cid}
    for i = 1, #conversation_fields do
        if meta[i] then
            fields[#fields + 1] = conversation_fields[i]
            fields[#fields + 1] = meta[i]
        end
    end
    local last = redis.call('XREVRANGE', log_key, '+', '-', 'COUNT', 1)
    fields[#fields + 1] = 'last'
    fields[#fields + 1] = last[1] and last[1][1] or '0-0'
    return fields
end
local function conversation_event(meta_key, log_key, client_acks, specialist_acks, cid)
    local fields = conversation_snapshot(meta_key, log_key, cid)
    local mark = 'd:' .. cid
    fields[#fields + 1] = 'dlv_c'
    fields[#fields + 1] = redis.call('HGET', client_acks, mark) or '0'
    fields[#fields + 1] = 'dlv_s'
    fields[#fields + 1] = redis.call('HGET', specialist_acks, mark) or '0'
    return fields
end

local function notify_contacts(contacts_key, user_id, state, last_seen, lost)
    local payload = 'P' .. table.concat(enc({user_id, state, last_seen, lost}))
    local members = redis.call('SMEMBERS', contacts_key)
    for i = 1, #members do
        redis.call('PUBLISH', channel_of(members[i]), payload)
    end
end

-- Unread reminders. A party's pending reminder is 'rem_<c|s>' in the conversation hash: the time
-- of the first message of the burst they have not read, or 'sent' once the reminder went out;
-- 'cf:reminders:due' holds "<cid>|<c|s>" -> when it is due. Only the first unread message of a
-- burst schedules one; reading everything (mark_read.lua) ends the burst. (send.lua does the
-- same inline, folded into its one HSET.)
local function schedule_reminder(meta_key, due_key, cid, party, now, after_ms)
    if redis.call('HEXISTS', meta_key, 'rem_' .. party) == 1 then
        return
    end
    redis.call('HSET', meta_key, 'rem_' .. party, now)
    redis.call('ZADD', due_key, tonumber(now) + tonumber(after_ms), cid .. '|' .. party)
end

local function cancel_reminders(meta_key, due_key, cid)
    redis.call('HDEL', meta_key, 'rem_c', 'rem_s')
    redis.call('ZREM', due_key, cid .. '|c', cid .. '|s')
end

// The read side of redis_chat_store (store/chat_store_redis.hpp): the conversation list, history
// pages, a device's events from its cursor and the cursors themselves. The writes are in
// chat_store_redis.cpp.

#include "store/chat_store_redis.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "protocol/cursor.hpp"
#include "store/commands.hpp"
#include "store/conversation_view.hpp"
#include "store/fields.hpp"
#include "store/keys.hpp"
#include "store/notice_codec.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_set>

namespace confide::store {
namespace {

// The value of `name` in a stream entry's flat field list, or empty.
std::string_view field_of(const reply& fields, std::string_view name) {
    const auto& f = fields.elements;
    for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
        if (f[i].str == name) {
            return f[i + 1].str;
        }
    }
    return {};
}

// The fields of a conversation hash that describe it (the rest are dedupe records).
// Must match conversation_fields in scripts/prelude.lua.
constexpr const char* conversation_fields[] = {
    "client", "specialist", "state",    "free",  "created", "updated", "read_c",
    "read_s", "unread_c",   "unread_s", "topic", "pref",    "expires", "decline"};

// list_conversations reads the user's newest events in pages of this many, at most this many in
// all, to find the conversations with recent activity.
constexpr std::size_t list_scan_page = 500;
constexpr std::size_t list_scan_max = 2000;

}  // namespace

awaitable<outcome<std::vector<routing::conversation>>> redis_chat_store::list_conversations(
    std::string user_id, std::uint32_t limit) {
    const std::string last = std::to_string(limit == 0 ? 0 : limit - 1);
    const std::string inbox = keys::inbox(user_id);
    const std::string page = std::to_string(list_scan_page);
    auto first =
        co_await call_all(conn_, cmds(cmd("ZREVRANGE", keys::inquiries(user_id), "0", last),
                                      cmd("ZREVRANGE", keys::conversations(user_id), "0", last),
                                      cmd("XREVRANGE", inbox, "+", "-", "COUNT", page)));
    for (auto& r : first) {
        if (!r) {
            co_return r.error();
        }
    }
    // Candidates: the open inquiries (listed first), the conversations of the user's newest
    // events (newest first: every message and change is an event of both parties), then the
    // index by creation or last change, for conversations quiet for longer than the scan.
    std::vector<std::string> inquiries;
    std::vector<std::string> candidates;
    std::unordered_set<std::string> seen;
    for (auto& e : first[0]->elements) {
        if (seen.insert(e.str).second) {
            inquiries.push_back(e.str);
        }
    }
    std::size_t from_events = 0;
    const reply* events = &*first[2];
    std::optional<outcome<reply>> more;
    for (std::size_t scanned = 0;;) {
        std::string oldest;
        for (const auto& e : events->elements) {
            if (!e.is_array() || e.elements.size() != 2) {
                continue;
            }
            oldest = e.elements[0].str;
            ++scanned;
            const auto cid = field_of(e.elements[1], "c");
            if (!cid.empty() && from_events < limit && seen.emplace(cid).second) {
                candidates.emplace_back(cid);
                ++from_events;
            }
        }
        if (from_events >= limit || events->elements.size() < list_scan_page ||
            scanned >= list_scan_max || oldest.empty()) {
            break;
        }
        more = co_await call(conn_, cmd("XREVRANGE", inbox, "(" + oldest, "-", "COUNT", page));
        if (!*more) {
            co_return more->error();
        }
        events = &**more;
    }
    for (auto& e : first[1]->elements) {
        if (seen.insert(e.str).second) {
            candidates.push_back(e.str);
        }
    }
    candidates.insert(candidates.begin(), inquiries.begin(), inquiries.end());

    std::vector<std::vector<std::string>> reads;
    reads.reserve(candidates.size() * 2);
    for (const auto& cid : candidates) {
        std::vector<std::string> hmget{"HMGET", keys::conversation(cid)};
        hmget.insert(hmget.end(), std::begin(conversation_fields), std::end(conversation_fields));
        hmget.emplace_back("dk");
        reads.push_back(std::move(hmget));
        reads.push_back({"XREVRANGE", keys::conversation_log(cid), "+", "-", "COUNT", "1"});
    }
    auto rows = co_await call_all(conn_, std::move(reads));
    std::vector<routing::conversation> out;
    out.reserve(candidates.size());
    std::vector<std::string_view> named;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        auto& meta_r = rows[2 * i];
        auto& last_r = rows[2 * i + 1];
        if (!meta_r) {
            co_return meta_r.error();
        }
        if (!last_r) {
            co_return last_r.error();
        }
        named.clear();
        for (std::size_t f = 0; f < std::size(conversation_fields) && f < meta_r->elements.size();
             ++f) {
            if (meta_r->elements[f].is_string()) {
                named.emplace_back(conversation_fields[f]);
                named.push_back(meta_r->elements[f].str);
            }
        }
        const std::string& cid = candidates[i];
        const auto& client = meta_r->elements.empty() ? std::string() : meta_r->elements[0].str;
        const auto& specialist =
            meta_r->elements.size() < 2 ? std::string() : meta_r->elements[1].str;
        if (client.empty() || (client != user_id && specialist != user_id)) {
            continue;
        }
        key_ptr key;
        const bool has_key = meta_r->elements.size() > std::size(conversation_fields) &&
                             meta_r->elements[std::size(conversation_fields)].is_string();
        // Without a data key (an erased conversation) there is nothing sealed left to open.
        if (sealer_->seals() && has_key) {
            const auto& dk = meta_r->elements[std::size(conversation_fields)].str;
            auto opened_key = sealer_->open_key(cid, dk);
            if (!opened_key) {
                // Listed without what cannot be opened; the rest of the list stays readable.
                refused(user_id, cid, "the conversation's data key", opened_key.error());
            } else {
                key = std::move(*opened_key);
            }
        }
        std::array<std::string, 2> opened;
        if (!open_conversation_fields(*sealer_, key.get(), cid, named, opened)) {
            refused(user_id, cid, "the inquiry's details",
                    crypto::make_error_code(crypto::errc::refused));
            continue;
        }
        auto meta = parse_conversation_meta(named);
        std::optional<routing::message> last_message;
        if (last_r->is_array() && !last_r->elements.empty()) {
            last_message = open_log_entry(last_r->elements[0], cid, key, user_id);
        }
        if (last_message) {
            meta.seq = last_message->seq;
            meta.updated_ms = std::max(meta.updated_ms, last_message->server_time_ms);
        }
        auto& c = out.emplace_back(view_of(candidates[i], meta, user_id));
        c.last_message = std::move(last_message);
    }
    // Open inquiries first as the index orders them; then by last activity.
    const auto rest = std::find_if(out.begin(), out.end(), [&](const routing::conversation& c) {
        return std::find(inquiries.begin(), inquiries.end(), c.id) == inquiries.end();
    });
    std::stable_sort(rest, out.end(),
                     [](const auto& a, const auto& b) { return a.updated_ms > b.updated_ms; });
    if (out.size() > limit) {
        out.resize(limit);
    }

    std::vector<std::vector<std::string>> others;
    others.reserve(out.size() * 2);
    for (auto& c : out) {
        const std::string& other = c.client_id == user_id ? c.specialist_id : c.client_id;
        others.push_back({"HMGET", keys::user(other), "presence", "last_seen", "lost"});
        others.push_back({"HGET", keys::acks(other), keys::delivered_field(c.id)});
        c.other_presence.emplace().user_id = other;
    }
    auto other_rows = co_await call_all(conn_, std::move(others));
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto& p = *out[i].other_presence;
        const auto& pr = other_rows[2 * i];
        if (pr && pr->is_array() && pr->elements.size() == 3) {
            const auto& e = pr->elements;
            p.state = parse_presence(e[0].str);
            p.last_seen_ms = int_or_zero<std::int64_t>(e[1].str);
            p.connection_lost = e[2].str == "1";
        }
        if (const auto& d = other_rows[2 * i + 1]; d && d->is_string()) {
            out[i].other_delivered_seq = int_or_zero<std::uint64_t>(d->str);
        }
    }
    co_return out;
}

awaitable<outcome<routing::history_page>> redis_chat_store::history(std::string user_id,
                                                                    std::string conversation_id,
                                                                    std::uint64_t before_seq,
                                                                    std::uint32_t limit) {
    auto p = co_await parties_for(user_id, conversation_id);
    if (!p) {
        co_return p.error();
    }
    auto dk = co_await key_of(user_id, conversation_id);
    if (!dk) {
        co_return dk.error();
    }
    const key_ptr key = std::move(*dk);
    const std::string end = before_seq == 0 ? "+" : "(0-" + std::to_string(before_seq);
    // The state in the same round trip: an erased conversation (store/erasure.cpp) answers as
    // such, not as an empty one. And the last seq: a page that ends above seq 1 with nothing
    // older met the messages retention deleted.
    auto rows = co_await call_all(
        conn_, cmds(cmd("XREVRANGE", keys::conversation_log(conversation_id), end, "-", "COUNT",
                        std::to_string(limit + 1)),
                    cmd("HMGET", keys::conversation(conversation_id), "state", "seq")));
    for (const auto& r : rows) {
        if (!r) {
            co_return r.error();
        }
    }
    const auto& meta = rows[1]->elements;
    if (meta.size() == 2 && parse_state(meta[0].str) == routing::conversation_state::erased) {
        co_return fail(errc::not_found, "this conversation was erased");
    }
    const auto last_seq = meta.size() == 2 ? int_or_zero<std::uint64_t>(meta[1].str) : 0;
    const auto& res = rows[0];
    routing::history_page out;
    out.messages.reserve(std::min<std::size_t>(res->elements.size(), limit));
    for (const auto& e : res->elements) {
        if (out.messages.size() == limit) {
            out.more = true;
            break;
        }
        auto m = open_log_entry(e, conversation_id, key, user_id);
        if (!m) {
            co_return fail(errc::internal, "a stored message failed its integrity check");
        }
        out.messages.push_back(std::move(*m));
    }
    if (!out.more && last_seq > 0) {
        // The oldest seq this page could have reached down to: 1 unless messages were deleted.
        const std::uint64_t lowest = !out.messages.empty() ? out.messages.back().seq
                                     : before_seq == 0     ? last_seq + 1
                                                           : std::min(before_seq, last_seq + 1);
        out.trimmed = lowest > 1;
    }
    co_return out;
}

awaitable<outcome<std::string>> redis_chat_store::other_party(std::string user_id,
                                                              std::string conversation_id) {
    auto p = co_await parties_for(user_id, conversation_id);
    if (!p) {
        co_return p.error();
    }
    co_return user_id == p->client ? p->specialist : p->client;
}

awaitable<outcome<routing::event_batch>> redis_chat_store::read_events(std::string user_id,
                                                                       std::string after_cursor,
                                                                       std::uint32_t limit,
                                                                       bool check_gap) {
    const std::string inbox = keys::inbox(user_id);
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back({"XRANGE", inbox, after_cursor.empty() ? "-" : "(" + after_cursor, "+", "COUNT",
                    std::to_string(limit)});
    check_gap = check_gap && !after_cursor.empty();
    if (check_gap) {
        cmds.push_back({"XINFO", "STREAM", inbox});
    }
    auto rows = co_await exec_all(conn_, std::move(cmds));
    if (auto& [ec, r] = rows[0]; ec) {
        co_return storage_failure(ec, r);
    }
    const reply& entries = std::get<1>(rows[0]);
    routing::event_batch batch;
    if (check_gap) {
        const auto cursor = protocol::parse_cursor(after_cursor);
        protocol::cursor_position max_deleted{};
        protocol::cursor_position last_generated{};
        batch.end_cursor = "0-0";
        // XINFO on a missing key is an error reply: no stream, nothing was ever trimmed.
        if (const auto& [ec, info] = rows[1]; !ec && info.is_array()) {
            const auto& f = info.elements;
            for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
                if (f[i].str == "max-deleted-entry-id") {
                    max_deleted =
                        protocol::parse_cursor(f[i + 1].str).value_or(protocol::cursor_position{});
                } else if (f[i].str == "last-generated-id") {
                    last_generated =
                        protocol::parse_cursor(f[i + 1].str).value_or(protocol::cursor_position{});
                    batch.end_cursor = f[i + 1].str;
                }
            }
        }
        batch.end_n = number_of_id(batch.end_cursor).value_or(0);
        batch.beyond_end = cursor && last_generated < *cursor;
        batch.cursor_n = number_of_id(after_cursor);
        batch.reset = !cursor || *cursor < max_deleted;
    }
    // Message events are pointers (conversation, log id): their messages are read from the
    // logs, all in one round trip, and the data keys not cached yet in one more.
    struct slot {
        std::string_view id;
        std::string_view conversation_id;
        std::vector<std::string_view> fields;  ///< of a conversation event; empty for a message
    };
    batch.entries_read = entries.elements.size();
    if (!entries.elements.empty() && entries.elements.back().is_array() &&
        !entries.elements.back().elements.empty()) {
        batch.last_cursor = entries.elements.back().elements[0].str;
        batch.last_n = number_of_id(batch.last_cursor).value_or(0);
    }
    std::vector<slot> slots;
    slots.reserve(entries.elements.size());
    std::vector<std::vector<std::string>> lookups;
    std::vector<std::string> cids;
    for (const auto& e : entries.elements) {
        if (!e.is_array() || e.elements.size() != 2) {
            continue;
        }
        const std::string_view id = e.elements[0].str;
        auto fields = flat_strings(e.elements[1]);
        if (fields.size() >= 4 && fields[0] == "k") {
            cids.emplace_back(fields[3]);
            slots.push_back({id, fields[3], std::move(fields)});
            continue;
        }
        const auto cid = field_of(e.elements[1], "c");
        const auto q = field_of(e.elements[1], "q");
        if (cid.empty() || q.empty()) {
            log::error("user={} malformed event {} in storage, skipped", user_id, id);
            continue;
        }
        cids.emplace_back(cid);
        slots.push_back({id, cid, {}});
        lookups.push_back({"XRANGE", keys::conversation_log(cid), std::string(q), std::string(q)});
    }
    std::vector<outcome<reply>> messages;
    if (!lookups.empty()) {
        messages = co_await call_all(conn_, std::move(lookups));
    }
    auto dks = co_await keys_of(user_id, std::move(cids));
    if (!dks) {
        co_return dks.error();
    }
    std::size_t next = 0;
    for (auto& s : slots) {
        const key_ptr& key = (*dks)[std::string(s.conversation_id)];
        if (!s.fields.empty()) {
            std::array<std::string, 2> opened;
            auto n =
                open_conversation_fields(*sealer_, key.get(), s.conversation_id, s.fields, opened)
                    ? conversation_notice(user_id, s.id, s.fields)
                    : nullptr;
            if (!n) {
                log::error("user={} event {} malformed or refused in storage, skipped", user_id,
                           s.id);
                continue;
            }
            batch.events.push_back(std::move(n));
            continue;
        }
        const auto& m = messages[next++];
        if (!m) {
            co_return m.error();
        }
        if (!m->is_array() || m->elements.empty()) {
            // Gone from its log: retention deleted it (the event stays in the user's stream
            // until that is trimmed), or the conversation was erased (store/erasure.cpp) and
            // its conversation event says so. Either way there is nothing to show.
            log::debug("user={} event {}: its message is deleted, skipped", user_id, s.id);
            continue;
        }
        std::optional<routing::message> msg;
        if (m->elements.size() == 1) {
            // A message that fails its check is skipped (logged and audited): the stream goes on.
            msg = open_log_entry(m->elements[0], s.conversation_id, key, user_id);
        }
        auto n = msg ? message_notice(s.id, std::move(*msg)) : nullptr;
        if (!n) {
            log::error("user={} event {}: its message is malformed or refused in storage, skipped",
                       user_id, s.id);
            continue;
        }
        batch.events.push_back(std::move(n));
    }
    co_return batch;
}

awaitable<outcome<std::pair<std::string, std::uint64_t>>> redis_chat_store::stream_end(
    std::string user_id) {
    auto res = co_await call(conn_, cmd("XREVRANGE", keys::inbox(user_id), "+", "-", "COUNT", "1"));
    if (!res) {
        co_return res.error();
    }
    if (!res->is_array() || res->elements.empty() || !res->elements[0].is_array() ||
        res->elements[0].elements.empty()) {
        co_return std::pair<std::string, std::uint64_t>{"0-0", 0};
    }
    const std::string& id = res->elements[0].elements[0].str;
    co_return std::pair<std::string, std::uint64_t>{id, number_of_id(id).value_or(0)};
}

awaitable<outcome<routing::device_position>> redis_chat_store::device_cursor(
    std::string user_id, std::string device_id) {
    auto rows = co_await call_all(
        conn_, cmds(cmd("HGET", keys::acks(user_id), keys::device_field(device_id)),
                    cmd("HLEN", keys::acks(user_id))));
    for (const auto& r : rows) {
        if (!r) {
            co_return r.error();
        }
    }
    routing::device_position pos;
    if (rows[0]->is_string()) {
        pos.cursor = "0-" + rows[0]->str;
    }
    // Every field of the hash was written by a device (its cursor, or an ack's marks).
    pos.user_has_devices = rows[1]->integer > 0;
    co_return pos;
}

awaitable<outcome<void>> redis_chat_store::save_device_cursor(std::string user_id,
                                                              std::string device_id,
                                                              std::string cursor,
                                                              bool forward_only) {
    if (forward_only) {
        co_return co_await ack(std::move(user_id), std::move(device_id), std::move(cursor), {});
    }
    const auto n = number_of_id(cursor);
    if (!n) {
        co_return fail(errc::invalid_argument, "not a cursor of this stream");
    }
    auto res = co_await call(
        conn_, cmd("HSET", keys::acks(user_id), keys::device_field(device_id), std::to_string(*n)));
    if (!res) {
        co_return res.error();
    }
    co_return outcome<void>{};
}

}  // namespace confide::store

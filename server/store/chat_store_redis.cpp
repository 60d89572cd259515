#include "store/chat_store_redis.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/random_id.hpp"
#include "protocol/cursor.hpp"
#include "store/commands.hpp"
#include "store/conversation_view.hpp"
#include "store/fields.hpp"
#include "store/keys.hpp"
#include "store/notice_codec.hpp"
#include "store/scripts.hpp"

#include <algorithm>
#include <optional>
#include <unordered_set>

namespace confide::store {
namespace {

// Bounds the party cache; when full it starts over (entries are cheap to read again).
constexpr std::size_t max_cached_parties = 200'000;

// One stream entry [id, [field, value, ...]] of a conversation log as a message.
std::optional<routing::message> parse_log_entry(const reply& e, std::string_view cid) {
    if (!e.is_array() || e.elements.size() != 2 || !e.elements[1].is_array()) {
        return std::nullopt;
    }
    const auto id = protocol::parse_cursor(e.elements[0].str);
    if (!id) {
        return std::nullopt;
    }
    routing::message m;
    m.conversation_id = cid;
    m.seq = id->seq;
    const auto& f = e.elements[1].elements;
    for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
        const std::string& k = f[i].str;
        if (k == "s") {
            m.sender_id = f[i + 1].str;
        } else if (k == "i") {
            m.client_msg_id = f[i + 1].str;
        } else if (k == "t") {
            m.server_time_ms = int_or_zero<std::int64_t>(f[i + 1].str);
        } else if (k == "b") {
            m.body = f[i + 1].str;
        }
    }
    return m;
}

}  // namespace

redis_chat_store::redis_chat_store(std::shared_ptr<redis::connection> conn, chat_store_config cfg)
    : conn_(std::move(conn)), cfg_(cfg) {}

awaitable<outcome<void>> redis_chat_store::bind_role(std::string user_id, auth::role r) {
    std::vector<std::string> k{keys::user(user_id), keys::profile(user_id), keys::directory(),
                               keys::directory_version()};
    std::vector<std::string> a{std::string(auth::to_string(r)), user_id,
                               cfg_.directory_open ? "1" : "0", std::to_string(now_ms())};
    auto res = co_await call_script(*conn_, scripts::bind_role(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    co_return outcome<void>{};
}

awaitable<outcome<redis_chat_store::parties>> redis_chat_store::parties_for(
    std::string user_id, std::string conversation_id) {
    parties p;
    {
        std::lock_guard lock(parties_mutex_);
        if (auto it = parties_.find(conversation_id); it != parties_.end()) {
            p = it->second;
        }
    }
    if (p.client.empty()) {
        auto res = co_await call(
            *conn_, cmd("HMGET", keys::conversation(conversation_id), "client", "specialist"));
        if (!res) {
            co_return res.error();
        }
        if (!res->is_array() || res->elements.size() != 2 || !res->elements[0].is_string() ||
            !res->elements[1].is_string()) {
            co_return fail(errc::forbidden, "no such conversation");
        }
        p.client = res->elements[0].str;
        p.specialist = res->elements[1].str;
        std::lock_guard lock(parties_mutex_);
        if (parties_.size() >= max_cached_parties) {
            parties_.clear();
        }
        parties_.emplace(conversation_id, p);
    }
    if (user_id != p.client && user_id != p.specialist) {
        co_return fail(errc::forbidden, "no such conversation");
    }
    co_return p;
}

outcome<routing::send_result> redis_chat_store::parse_send_reply(const reply& r) const {
    const auto status = script_status(r);
    if ((status != "ok" && status != "dup") || r.elements.size() != 4) {
        return fail(errc::internal, "malformed reply from the send script");
    }
    routing::send_result out;
    out.conversation_id = r.elements[1].str;
    out.seq = int_or_zero<std::uint64_t>(r.elements[2].str);
    out.server_time_ms = (int_or_zero<std::int64_t>(r.elements[3].str));
    out.duplicate = status == "dup";
    return out;
}

awaitable<outcome<routing::send_result>> redis_chat_store::send_message(routing::send_command cmd) {
    auto p = co_await parties_for(cmd.sender_id, cmd.conversation_id);
    if (!p) {
        co_return p.error();
    }
    std::vector<std::string> k{keys::conversation(cmd.conversation_id),
                               keys::conversation_log(cmd.conversation_id),
                               keys::sent_record(cmd.sender_id, cmd.client_msg_id),
                               keys::user(p->client),
                               keys::inbox(p->client),
                               keys::conversations(p->client),
                               keys::user(p->specialist),
                               keys::inbox(p->specialist),
                               keys::conversations(p->specialist),
                               keys::first_replies(p->specialist),
                               keys::inquiry_expiry(),
                               keys::reminders_due()};
    const bool to_specialist = cmd.sender_id == p->client;
    std::vector<std::string> a{
        std::move(cmd.conversation_id),
        std::move(cmd.sender_id),
        std::move(cmd.client_msg_id),
        std::move(cmd.body),
        std::to_string(cmd.now_ms),
        std::to_string(cfg_.sent_record_ttl.count()),
        std::to_string(cfg_.inbox_max_events),
        p->client,
        p->specialist,
        std::to_string(
            (to_specialist ? cfg_.remind_specialist_after : cfg_.remind_client_after).count()),
        std::to_string(routing::reply_time_window.count())};
    auto res = co_await call_script(*conn_, scripts::send(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    co_return parse_send_reply(*res);
}

awaitable<outcome<routing::send_result>> redis_chat_store::start_inquiry(
    routing::inquiry_command cmd) {
    // The script refuses with 'retry' when the open conversation it was given changed meanwhile
    // (another device of the client wrote at the same moment); a few rounds settle it.
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto open = co_await call(
            *conn_, store::cmd("HGET", keys::open_with(cmd.client_id), cmd.specialist_id));
        if (!open) {
            co_return open.error();
        }
        const std::string found = open->is_string() ? open->str : std::string();
        const std::string cid = !found.empty() ? found
                                : attempt == 0 ? cmd.new_conversation_id
                                               : random_hex_id();
        std::vector<std::string> k{keys::conversation(cid),
                                   keys::conversation_log(cid),
                                   keys::sent_record(cmd.client_id, cmd.client_msg_id),
                                   keys::user(cmd.client_id),
                                   keys::inbox(cmd.client_id),
                                   keys::conversations(cmd.client_id),
                                   keys::user(cmd.specialist_id),
                                   keys::inbox(cmd.specialist_id),
                                   keys::conversations(cmd.specialist_id),
                                   keys::open_with(cmd.client_id),
                                   keys::inquiries(cmd.specialist_id),
                                   keys::contacts(cmd.client_id),
                                   keys::contacts(cmd.specialist_id),
                                   keys::profile(cmd.specialist_id),
                                   keys::inquiry_expiry(),
                                   keys::reminders_due()};
        std::vector<std::string> a{cid,
                                   cmd.client_id,
                                   cmd.client_msg_id,
                                   cmd.body,
                                   std::to_string(cmd.now_ms),
                                   std::to_string(cfg_.sent_record_ttl.count()),
                                   std::to_string(cfg_.inbox_max_events),
                                   cmd.client_id,
                                   cmd.specialist_id,
                                   cmd.free_consultation ? "1" : "0",
                                   found,
                                   cmd.topic,
                                   format_time_ranges(cmd.preferred_times),
                                   std::to_string(cmd.expires_at_ms),
                                   std::to_string(cfg_.remind_specialist_after.count())};
        auto res = co_await call_script(*conn_, scripts::inquiry(), std::move(k), std::move(a));
        if (!res) {
            co_return res.error();
        }
        if (script_status(*res) == "retry") {
            continue;
        }
        co_return parse_send_reply(*res);
    }
    co_return fail(errc::unavailable, "the conversation changed while writing; retry");
}

awaitable<outcome<routing::conversation>> redis_chat_store::update_conversation(
    std::string user_id, std::string conversation_id, routing::conversation_action action,
    routing::decline_reason reason, std::int64_t now_ms) {
    auto p = co_await parties_for(user_id, conversation_id);
    if (!p) {
        co_return p.error();
    }
    std::vector<std::string> k{keys::conversation(conversation_id),
                               keys::user(p->client),
                               keys::inbox(p->client),
                               keys::conversations(p->client),
                               keys::open_with(p->client),
                               keys::user(p->specialist),
                               keys::inbox(p->specialist),
                               keys::conversations(p->specialist),
                               keys::inquiries(p->specialist),
                               keys::inquiry_expiry(),
                               keys::reminders_due()};
    std::vector<std::string> a{conversation_id,
                               user_id,
                               action_name(action),
                               std::to_string(now_ms),
                               std::to_string(cfg_.inbox_max_events),
                               p->client,
                               p->specialist,
                               decline_reason_name(reason)};
    auto res = co_await call_script(*conn_, scripts::update(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    co_return view_of(conversation_id, parse_conversation_meta(flat_strings(*res, 1)), user_id);
}

awaitable<outcome<void>> redis_chat_store::mark_read(std::string user_id,
                                                     std::string conversation_id,
                                                     std::uint64_t up_to_seq) {
    auto p = co_await parties_for(user_id, conversation_id);
    if (!p) {
        co_return p.error();
    }
    const auto after =
        user_id == p->client ? cfg_.remind_client_after : cfg_.remind_specialist_after;
    auto res = co_await call_script(
        *conn_, scripts::mark_read(),
        cmd(keys::conversation(conversation_id), keys::conversation_log(conversation_id),
            keys::reminders_due()),
        cmd(conversation_id, user_id, std::to_string(up_to_seq), std::to_string(after.count())));
    if (!res) {
        co_return res.error();
    }
    co_return outcome<void>{};
}

awaitable<outcome<void>> redis_chat_store::ack(std::string user_id, std::string device_id,
                                               std::string cursor, routing::delivered_marks marks) {
    std::vector<std::string> k{keys::devices(user_id)};
    std::vector<std::string> a{user_id, std::move(device_id), std::move(cursor)};
    for (auto& [cid, seq] : marks) {
        k.push_back(keys::conversation(cid));
        a.push_back(std::move(cid));
        a.push_back(std::to_string(seq));
    }
    auto res = co_await call_script(*conn_, scripts::ack(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    co_return outcome<void>{};
}

awaitable<outcome<std::vector<routing::conversation>>> redis_chat_store::list_conversations(
    std::string user_id, std::uint32_t limit) {
    const std::string last = std::to_string(limit == 0 ? 0 : limit - 1);
    auto ids =
        co_await call_all(*conn_, cmds(cmd("ZREVRANGE", keys::inquiries(user_id), "0", last),
                                       cmd("ZREVRANGE", keys::conversations(user_id), "0", last)));
    for (auto& r : ids) {
        if (!r) {
            co_return r.error();
        }
    }
    // Inquiries first (newest first), then the rest by last activity.
    std::vector<std::string> order;
    std::unordered_set<std::string> seen;
    for (auto& r : ids) {
        for (auto& e : r->elements) {
            if (order.size() < limit && seen.insert(e.str).second) {
                order.push_back(e.str);
            }
        }
    }
    std::vector<std::vector<std::string>> reads;
    reads.reserve(order.size() * 2);
    for (const auto& cid : order) {
        reads.push_back({"HGETALL", keys::conversation(cid)});
        reads.push_back({"XREVRANGE", keys::conversation_log(cid), "+", "-", "COUNT", "1"});
    }
    auto rows = co_await call_all(*conn_, std::move(reads));
    std::vector<routing::conversation> out;
    std::vector<std::vector<std::string>> presence_reads;
    out.reserve(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        auto& meta_r = rows[2 * i];
        auto& last_r = rows[2 * i + 1];
        if (!meta_r) {
            co_return meta_r.error();
        }
        if (!last_r) {
            co_return last_r.error();
        }
        const auto meta = parse_conversation_meta(flat_strings(*meta_r));
        if (!meta.exists() || (meta.client != user_id && meta.specialist != user_id)) {
            continue;
        }
        auto& c = out.emplace_back(view_of(order[i], meta, user_id));
        if (last_r->is_array() && !last_r->elements.empty()) {
            c.last_message = parse_log_entry(last_r->elements[0], order[i]);
        }
        const std::string& other = meta.client == user_id ? meta.specialist : meta.client;
        presence_reads.push_back({"HMGET", keys::user(other), "presence", "last_seen", "lost"});
        c.other_presence.emplace().user_id = other;
    }
    auto presence = co_await call_all(*conn_, std::move(presence_reads));
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto& p = *out[i].other_presence;
        if (presence[i] && presence[i]->is_array() && presence[i]->elements.size() == 3) {
            const auto& e = presence[i]->elements;
            p.state = parse_presence(e[0].str);
            p.last_seen_ms = int_or_zero<std::int64_t>(e[1].str);
            p.connection_lost = e[2].str == "1";
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
    const std::string end = before_seq == 0 ? "+" : "(0-" + std::to_string(before_seq);
    auto res = co_await call(*conn_, cmd("XREVRANGE", keys::conversation_log(conversation_id), end,
                                         "-", "COUNT", std::to_string(limit + 1)));
    if (!res) {
        co_return res.error();
    }
    routing::history_page out;
    out.messages.reserve(std::min<std::size_t>(res->elements.size(), limit));
    for (const auto& e : res->elements) {
        if (out.messages.size() == limit) {
            out.more = true;
            break;
        }
        auto m = parse_log_entry(e, conversation_id);
        if (!m) {
            co_return fail(errc::internal, "malformed message in storage");
        }
        out.messages.push_back(std::move(*m));
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
    auto rows = co_await exec_all(*conn_, std::move(cmds));
    if (auto& [ec, r] = rows[0]; ec) {
        co_return storage_failure(ec, r);
    }
    const reply& entries = std::get<1>(rows[0]);
    routing::event_batch batch;
    if (check_gap) {
        const auto cursor = protocol::parse_cursor(after_cursor);
        protocol::cursor_position max_deleted{};
        protocol::cursor_position last_generated{};
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
                }
            }
        }
        batch.reset = !cursor || *cursor < max_deleted || last_generated < *cursor;
    }
    std::vector<std::string_view> fields;
    for (const auto& e : entries.elements) {
        if (!e.is_array() || e.elements.size() != 2) {
            continue;
        }
        fields = flat_strings(e.elements[1]);
        auto n = event_notice(user_id, e.elements[0].str, fields);
        if (!n) {
            log::error("user={} malformed event {} in storage, skipped", user_id,
                       e.elements[0].str);
            continue;
        }
        batch.events.push_back(std::move(n));
    }
    co_return batch;
}

awaitable<outcome<std::pair<std::string, std::uint64_t>>> redis_chat_store::stream_end(
    std::string user_id) {
    auto res =
        co_await call(*conn_, cmd("XREVRANGE", keys::inbox(user_id), "+", "-", "COUNT", "1"));
    if (!res) {
        co_return res.error();
    }
    if (!res->is_array() || res->elements.empty()) {
        co_return std::pair<std::string, std::uint64_t>{"0-0", 0};
    }
    const auto& e = res->elements[0];
    std::uint64_t n = 0;
    if (e.elements.size() == 2) {
        const auto& f = e.elements[1].elements;
        for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
            if (f[i].str == "n") {
                n = int_or_zero<std::uint64_t>(f[i + 1].str);
            }
        }
    }
    co_return std::pair<std::string, std::uint64_t>{e.elements[0].str, n};
}

awaitable<outcome<routing::device_position>> redis_chat_store::device_cursor(
    std::string user_id, std::string device_id) {
    auto rows = co_await call_all(*conn_, cmds(cmd("HGET", keys::devices(user_id), device_id),
                                               cmd("HLEN", keys::devices(user_id))));
    for (const auto& r : rows) {
        if (!r) {
            co_return r.error();
        }
    }
    routing::device_position pos;
    pos.cursor = rows[0]->is_string() ? rows[0]->str : std::string();
    pos.user_has_devices = rows[1]->integer > 0;
    co_return pos;
}

awaitable<outcome<void>> redis_chat_store::save_device_cursor(std::string user_id,
                                                              std::string device_id,
                                                              std::string cursor) {
    auto res = co_await call_script(*conn_, scripts::save_cursor(), cmd(keys::devices(user_id)),
                                    cmd(device_id, cursor));
    if (!res) {
        co_return res.error();
    }
    co_return outcome<void>{};
}

}  // namespace confide::store

#include "store/erasure.hpp"

#include "common/clock.hpp"
#include "store/cluster_steps.hpp"
#include "store/commands.hpp"
#include "store/keys.hpp"
#include "store/notice_codec.hpp"
#include "store/redis/cluster_topology.hpp"
#include "store/scripts.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_set>

namespace confide::store {
namespace {

using namespace std::chrono_literals;

// The other party's event stream is trimmed as the server trims it (MAXLEN ~ only trims beyond
// it; keys_test/chat_store's inbox_max_events is the same number).
constexpr std::size_t inbox_max_events = 100000;

// Passes over a user's conversation indexes: a connection that started an inquiry between the
// read of the indexes and its close is caught by the next pass.
constexpr int max_passes = 3;

constexpr auto poll_interval = 50ms;

awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(use_nothrow);
}

// erase_one() on a Redis Cluster (docs/design.md, "Erasure on a Redis Cluster"): the
// conversation's step (erase_conversation.lua with the other slots' keys left out), then each
// party's (their delivered mark, and the 'erased' event for a party whose account stays), then
// the schedule's. Each step is idempotent (a party's stream takes the 'erased' event once,
// user_conversation.lua), so an erasure stopped between steps is finished by running it again.
awaitable<outcome<bool>> erase_in_steps(const db& conn, const std::string& cid,
                                        const std::string& client, const std::string& specialist,
                                        const std::string& side) {
    std::vector<std::string> k(12, keys::conversation(cid));
    k[1] = keys::conversation_log(cid);
    auto res =
        co_await call_script(conn, scripts::erase_conversation(), std::move(k),
                             cmd(cid, std::to_string(now_ms()), std::to_string(inbox_max_events),
                                 side, client, specialist));
    if (!res) {
        co_return res.error();
    }
    cluster_steps::fault_point("erase:conversation");
    auto marks = co_await call_all(
        conn, cmds(cmd("HDEL", keys::acks(client), keys::delivered_field(cid)),
                   cmd("HDEL", keys::acks(specialist), keys::delivered_field(cid))));
    for (const auto& m : marks) {
        if (!m) {
            co_return m.error();
        }
    }
    auto fields = co_await cluster_steps::conversation_snapshot(conn, cid, client, specialist);
    if (!fields) {
        co_return fields.error();
    }
    // As erase_conversation.lua's event on one Redis: the delivered marks are gone.
    fields->insert(fields->end(), {"dlv_c", "0", "dlv_s", "0"});
    for (const bool is_client : {true, false}) {
        if (side == (is_client ? "c" : "s")) {
            continue;  // their account is erased: their stream is deleted next
        }
        const std::string& user = is_client ? client : specialist;
        const std::string& other = is_client ? specialist : client;
        auto told = co_await cluster_steps::append_conversation_event(
            conn, user, is_client, other, cid, now_ms(), *fields, inbox_max_events);
        if (!told) {
            co_return told.error();
        }
    }
    auto scheduled =
        co_await call_all(conn, cmds(cmd("ZREM", keys::inquiry_expiry(), cid),
                                     cmd("ZREM", keys::reminders_due(), cid + "|c", cid + "|s")));
    for (const auto& r : scheduled) {
        if (!r) {
            co_return r.error();
        }
    }
    co_return res->elements.size() == 2 && res->elements[1].str == "erased";
}

// Erases one conversation; `erased_user` (or empty) gets no event: their stream is deleted next.
awaitable<outcome<bool>> erase_one(db conn, const std::string& cid,
                                   const std::string& erased_user) {
    auto parties =
        co_await call(conn, cmd("HMGET", keys::conversation(cid), "client", "specialist"));
    if (!parties) {
        co_return parties.error();
    }
    if (parties->elements.size() != 2 || !parties->elements[0].is_string() ||
        !parties->elements[1].is_string()) {
        co_return fail(errc::not_found, "no conversation " + cid);
    }
    const std::string client = parties->elements[0].str;
    const std::string specialist = parties->elements[1].str;
    const std::string side = erased_user.empty()         ? ""
                             : erased_user == client     ? "c"
                             : erased_user == specialist ? "s"
                                                         : "";
    if (conn.is_cluster()) {
        co_return co_await erase_in_steps(conn, cid, client, specialist, side);
    }
    std::vector<std::string> k{
        keys::conversation(cid),     keys::conversation_log(cid),     keys::inbox(client),
        keys::inbox(specialist),     keys::open_with(client),         keys::inquiries(specialist),
        keys::conversations(client), keys::conversations(specialist), keys::acks(client),
        keys::acks(specialist),      keys::inquiry_expiry(),          keys::reminders_due()};
    std::vector<std::string> a{
        cid, std::to_string(now_ms()), std::to_string(inbox_max_events), side, client, specialist};
    auto res =
        co_await call_script(conn, scripts::erase_conversation(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    co_return res->elements.size() == 2 && res->elements[1].str == "erased";
}

// The conversations `user_id` is a party of, from their indexes.
awaitable<outcome<std::vector<std::string>>> conversations_of(db conn, const std::string& user_id) {
    auto rows = co_await call_all(conn, cmds(cmd("ZRANGE", keys::conversations(user_id), "0", "-1"),
                                             cmd("ZRANGE", keys::inquiries(user_id), "0", "-1"),
                                             cmd("HVALS", keys::open_with(user_id))));
    std::vector<std::string> out;
    for (auto& r : rows) {
        if (!r) {
            co_return r.error();
        }
        for (auto& e : r->elements) {
            if (std::find(out.begin(), out.end(), e.str) == out.end()) {
                out.push_back(std::move(e.str));
            }
        }
    }
    co_return out;
}

// The keys matching `pattern`, by SCAN (on a cluster: of the master serving `slot`).
awaitable<outcome<std::vector<std::string>>> scan_keys(db conn, std::string pattern,
                                                       std::uint16_t slot) {
    std::vector<std::string> out;
    std::string cursor = "0";
    do {
        auto page = co_await scan(conn, std::move(cursor), pattern, {}, 1000, slot);
        if (!page) {
            co_return page.error();
        }
        cursor = std::move(page->cursor);
        for (auto& k : page->keys) {
            out.push_back(std::move(k));
        }
    } while (cursor != "0");
    co_return out;
}

// The fields of INFO persistence.
awaitable<outcome<std::map<std::string, std::string, std::less<>>>> persistence_info(
    const db& conn, std::uint16_t slot) {
    auto info = co_await call_on(conn, slot, cmd("INFO", "persistence"));
    if (!info) {
        co_return info.error();
    }
    std::map<std::string, std::string, std::less<>> out;
    std::string_view text = info->str;
    while (!text.empty()) {
        const auto end = text.find('\n');
        auto line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (const auto colon = line.find(':'); colon != std::string_view::npos) {
            out.emplace(line.substr(0, colon), line.substr(colon + 1));
        }
    }
    co_return out;
}

std::uint64_t number(const std::map<std::string, std::string, std::less<>>& info,
                     std::string_view field) {
    std::uint64_t n = 0;
    if (auto it = info.find(field); it != info.end()) {
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    }
    return n;
}

// Starts a background rewrite (`start`) on the master serving `slot` (the one Redis) and waits
// until the counter `done` moved and `in_progress` (and `scheduled`) are 0; then `status` must
// say ok.
awaitable<outcome<void>> rewrite(const db& conn, std::uint16_t slot, std::vector<std::string> start,
                                 std::string_view done, std::string_view in_progress,
                                 std::string_view scheduled, std::string_view status,
                                 std::chrono::steady_clock::time_point deadline) {
    auto before = co_await persistence_info(conn, slot);
    if (!before) {
        co_return before.error();
    }
    const auto count = number(*before, done);
    const std::string what = start.front();
    if (auto started = co_await call_on(conn, slot, std::move(start)); !started) {
        co_return started.error();
    }
    while (true) {
        auto now = co_await persistence_info(conn, slot);
        if (!now) {
            co_return now.error();
        }
        if (number(*now, done) > count && number(*now, in_progress) == 0 &&
            (scheduled.empty() || number(*now, scheduled) == 0)) {
            if (auto it = now->find(status); it == now->end() || it->second != "ok") {
                co_return fail(errc::unavailable,
                               what + " failed (" + std::string(status) + "); see Redis's log");
            }
            co_return outcome<void>{};
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            co_return fail(errc::unavailable, what + " did not finish in time");
        }
        co_await pause(poll_interval);
    }
}

}  // namespace

awaitable<outcome<erasure_report>> erase_conversation(db conn, std::string conversation_id) {
    auto erased = co_await erase_one(conn, conversation_id, {});
    if (!erased) {
        co_return erased.error();
    }
    erasure_report out;
    out.conversations.push_back(std::move(conversation_id));
    co_return out;
}

awaitable<outcome<erasure_report>> erase_user(db conn, std::string user_id,
                                              std::chrono::milliseconds close_wait) {
    erasure_report out;
    const std::string channel = keys::channel(user_id);
    // First close their connections, so that they write nothing new meanwhile.
    if (auto p = co_await call(conn, cmd("PUBLISH", channel, std::string(account_erased_payload)));
        !p) {
        co_return p.error();
    }
    std::unordered_set<std::string> done;
    for (int pass = 0; pass < max_passes; ++pass) {
        auto cids = co_await conversations_of(conn, user_id);
        if (!cids) {
            co_return cids.error();
        }
        bool any = false;
        for (const auto& cid : *cids) {
            if (done.contains(cid)) {
                continue;
            }
            any = true;
            auto erased = co_await erase_one(conn, cid, user_id);
            if (!erased && erased.error().code != errc::not_found) {
                co_return erased.error();
            }
            done.insert(cid);
            if (erased) {
                out.conversations.push_back(cid);
            }
        }
        if (!any) {
            break;
        }
    }
    // A closing connection unregisters itself (and writes the user's presence): wait for that
    // before deleting, so nothing of theirs is written after.
    const auto until = std::chrono::steady_clock::now() + close_wait;
    while (true) {
        auto live = co_await call(
            conn, cmd("ZCOUNT", keys::connections(user_id), std::to_string(now_ms()), "+inf"));
        if (!live) {
            co_return live.error();
        }
        out.connections_left = static_cast<std::uint64_t>(std::max<std::int64_t>(live->integer, 0));
        if (out.connections_left == 0 || std::chrono::steady_clock::now() >= until) {
            break;
        }
        co_await pause(poll_interval);
    }
    auto contacts = co_await call(conn, cmd("SMEMBERS", keys::contacts(user_id)));
    if (!contacts) {
        co_return contacts.error();
    }
    // Every key of theirs has their hash tag: on a cluster, on the master of their slot.
    auto records = co_await scan_keys(conn, keys::inquiry_record_pattern(user_id),
                                      redis::key_slot(keys::user(user_id)));
    if (!records) {
        co_return records.error();
    }
    std::vector<std::vector<std::string>> writes;
    for (const auto& c : contacts->elements) {
        writes.push_back(cmd("SREM", keys::contacts(c.str), user_id));
    }
    writes.push_back(cmd("ZREM", keys::presence_expiry(), user_id));
    writes.push_back(cmd("ZREM", keys::directory(), user_id));
    std::vector<std::string> del{"DEL",
                                 keys::user(user_id),
                                 keys::profile(user_id),
                                 keys::first_replies(user_id),
                                 keys::inbox(user_id),
                                 keys::conversations(user_id),
                                 keys::inquiries(user_id),
                                 keys::open_with(user_id),
                                 keys::contacts(user_id),
                                 keys::acks(user_id),
                                 keys::connections(user_id)};
    del.insert(del.end(), records->begin(), records->end());
    writes.push_back(std::move(del));
    auto results = co_await call_all(conn, std::move(writes));
    for (const auto& r : results) {
        if (!r) {
            co_return r.error();
        }
    }
    // The directory's entry: nodes reload their copy when its version moves.
    if (results[results.size() - 2]->integer > 0) {
        if (auto v = co_await call(conn, cmd("INCR", keys::directory_version())); !v) {
            co_return v.error();
        }
    }
    out.user_keys = static_cast<std::uint64_t>(std::max<std::int64_t>(results.back()->integer, 0));
    // Once more, for a connection that signed in while the first notice was on its way.
    if (auto p = co_await call(conn, cmd("PUBLISH", channel, std::string(account_erased_payload)));
        !p) {
        co_return p.error();
    }
    if (out.conversations.empty() && out.user_keys == 0) {
        co_return fail(errc::not_found, "nothing of user " + user_id + " is stored");
    }
    co_return out;
}

awaitable<outcome<void>> rewrite_redis_files(db conn, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // On a cluster each master rewrites its own files.
    const auto slots = scan_slots(conn);
    if (slots.empty()) {
        co_return fail(errc::unavailable, "no slot map from the Redis Cluster yet");
    }
    for (const auto slot : slots) {
        auto aof = co_await rewrite(conn, slot, cmd("BGREWRITEAOF"), "aof_rewrites",
                                    "aof_rewrite_in_progress", "aof_rewrite_scheduled",
                                    "aof_last_bgrewrite_status", deadline);
        if (!aof) {
            co_return aof.error();
        }
        // SCHEDULE: a save waits for a rewrite still running rather than failing.
        auto rdb =
            co_await rewrite(conn, slot, cmd("BGSAVE", "SCHEDULE"), "rdb_saves",
                             "rdb_bgsave_in_progress", "", "rdb_last_bgsave_status", deadline);
        if (!rdb) {
            co_return rdb.error();
        }
    }
    co_return outcome<void>{};
}

}  // namespace confide::store

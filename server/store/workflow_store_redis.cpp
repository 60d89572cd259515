#include "store/workflow_store_redis.hpp"

#include "store/cluster_steps.hpp"
#include "store/commands.hpp"
#include "store/fields.hpp"
#include "store/keys.hpp"
#include "store/scripts.hpp"

namespace confide::store {
namespace {

// How long a Redis Cluster remembers that a burst's reminder was appended: far longer than the
// sweeps that may repeat its steps after a crash.
constexpr std::int64_t reminder_marker_ttl_s = 7 * 24 * 3600;

std::string member_of(const routing::due_reminder& r) {
    return r.conversation_id + (r.to_specialist ? "|s" : "|c");
}

// Up to `limit` members of the zset `key` scored at or before `until`, lowest first.
awaitable<outcome<std::vector<std::string>>> due_members(db conn, std::string key,
                                                         std::string until, std::uint32_t limit) {
    auto res = co_await call(
        conn, cmd("ZRANGEBYSCORE", key, "-inf", until, "LIMIT", "0", std::to_string(limit)));
    if (!res) {
        co_return res.error();
    }
    std::vector<std::string> out;
    out.reserve(res->elements.size());
    for (auto& e : res->elements) {
        out.push_back(std::move(e.str));
    }
    co_return out;
}

}  // namespace

redis_workflow_store::redis_workflow_store(db conn, workflow_store_config cfg)
    : conn_(std::move(conn)), cfg_(cfg) {}

awaitable<outcome<std::vector<std::string>>> redis_workflow_store::due_expiries(
    std::int64_t now_ms, std::uint32_t limit) {
    co_return co_await due_members(conn_, keys::inquiry_expiry(), std::to_string(now_ms), limit);
}

awaitable<outcome<std::vector<std::string>>> redis_workflow_store::due_retention(
    std::int64_t cutoff_ms, std::uint32_t limit) {
    // Exclusive: the index holds the time of the oldest message, and one written exactly at the
    // cutoff stays.
    co_return co_await due_members(conn_, keys::retention(), "(" + std::to_string(cutoff_ms),
                                   limit);
}

awaitable<outcome<routing::workflow_store::trimmed>> redis_workflow_store::trim_conversation(
    std::string cid, std::int64_t cutoff_ms, std::uint32_t limit, std::int64_t now_ms) {
    // On a cluster the index is in its own slot: the conversation's step (retain.lua without
    // it), then the entry re-scored or removed. A crash between them leaves the old, lower
    // score: the conversation is swept again, which finds nothing older and re-scores it.
    const bool cluster = conn_.is_cluster();
    std::vector<std::string> k{keys::conversation(cid), keys::conversation_log(cid)};
    if (!cluster) {
        k.push_back(keys::retention());
    }
    std::vector<std::string> a{cid, std::to_string(cutoff_ms), std::to_string(limit),
                               std::to_string(now_ms)};
    auto res = co_await call_script(conn_, scripts::retain(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    trimmed out;
    const auto status = script_status(*res);
    if (status == "ok" && res->elements.size() == 4) {
        out.messages = int_or_zero<std::uint32_t>(res->elements[1].str);
        out.due = res->elements[2].str == "1";
    }
    if (cluster && (status == "gone" || (status == "ok" && res->elements.size() == 4))) {
        auto change = status == "gone" ? cmd("ZREM", keys::retention(), cid)
                                       : cmd("ZADD", keys::retention(), "XX",
                                             std::move(res->elements[3].str), cid);
        auto indexed = co_await call(conn_, std::move(change));
        if (!indexed) {
            co_return indexed.error();
        }
    }
    co_return out;
}

awaitable<outcome<bool>> redis_workflow_store::expire_inquiry(std::string cid,
                                                              std::int64_t now_ms) {
    auto parties =
        co_await call(conn_, cmd("HMGET", keys::conversation(cid), "client", "specialist"));
    if (!parties) {
        co_return parties.error();
    }
    if (!parties->is_array() || parties->elements.size() != 2 ||
        !parties->elements[0].is_string() || !parties->elements[1].is_string()) {
        auto gone = co_await call(conn_, cmd("ZREM", keys::inquiry_expiry(), cid));
        if (!gone) {
            co_return gone.error();
        }
        co_return false;
    }
    const std::string client = parties->elements[0].str;
    const std::string specialist = parties->elements[1].str;
    if (conn_.is_cluster()) {
        // The conversation's step checks that it is an unanswered inquiry that is due; then
        // the parties' steps and the schedule's (cluster_steps::change_state). An entry a crash
        // left behind comes back at the next sweep, which repeats the steps that are missing.
        cluster_steps::state_change change{
            cid, "", "expire", client, specialist, "", now_ms, cfg_.inbox_max_events, "expire"};
        auto res = co_await cluster_steps::change_state(conn_, std::move(change));
        if (!res) {
            co_return res.error();
        }
        if (script_status(*res) == "gone") {
            auto gone = co_await call(conn_, cmd("ZREM", keys::inquiry_expiry(), cid));
            if (!gone) {
                co_return gone.error();
            }
        }
        co_return script_status(*res) == "ok" && res->elements[1].str == "1";
    }
    std::vector<std::string> k{
        keys::conversation(cid),     keys::inquiry_expiry(),      keys::conversation_log(cid),
        keys::inbox(client),         keys::conversations(client), keys::open_with(client),
        keys::acks(client),          keys::inbox(specialist),     keys::conversations(specialist),
        keys::inquiries(specialist), keys::reminders_due(),       keys::acks(specialist)};
    std::vector<std::string> a{cid, std::to_string(now_ms), std::to_string(cfg_.inbox_max_events),
                               client, specialist};
    auto res = co_await call_script(conn_, scripts::expire(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    co_return script_status(*res) == "ok";
}

awaitable<outcome<std::vector<routing::due_reminder>>> redis_workflow_store::due_reminders(
    std::int64_t now_ms, std::uint32_t limit) {
    auto due = co_await call(
        conn_, cmd("ZRANGEBYSCORE", keys::reminders_due(), "-inf", std::to_string(now_ms),
                   "WITHSCORES", "LIMIT", "0", std::to_string(limit)));
    if (!due) {
        co_return due.error();
    }
    std::vector<routing::due_reminder> found;
    std::vector<std::vector<std::string>> reads;
    for (std::size_t i = 0; i + 1 < due->elements.size(); i += 2) {
        const std::string& member = due->elements[i].str;
        const auto bar = member.rfind('|');
        if (bar == std::string::npos || bar + 2 != member.size()) {
            continue;
        }
        routing::due_reminder r;
        r.conversation_id = member.substr(0, bar);
        r.to_specialist = member[bar + 1] == 's';
        r.due_ms = int_or_zero<std::int64_t>(due->elements[i + 1].str);
        reads.push_back({"HMGET", keys::conversation(r.conversation_id), "client", "specialist",
                         r.to_specialist ? "rem_s" : "rem_c"});
        found.push_back(std::move(r));
    }
    auto rows = co_await call_all(conn_, std::move(reads));
    std::vector<routing::due_reminder> out;
    out.reserve(found.size());
    for (std::size_t i = 0; i < found.size(); ++i) {
        if (!rows[i]) {
            co_return rows[i].error();
        }
        auto& r = found[i];
        const auto& e = rows[i]->elements;
        std::int64_t since = 0;
        if (e.size() != 3 || !e[0].is_string() || !parse_int(std::string_view(e[2].str), since)) {
            // The conversation is gone, or the reminder was sent or cancelled: unschedule it.
            auto gone = co_await call(conn_, cmd("ZREM", keys::reminders_due(), member_of(r)));
            if (!gone) {
                co_return gone.error();
            }
            continue;
        }
        r.specialist_id = e[1].str;
        r.recipient_id = r.to_specialist ? e[1].str : e[0].str;
        r.unread_since_ms = since;
        out.push_back(std::move(r));
    }
    co_return out;
}

awaitable<outcome<void>> redis_workflow_store::postpone_reminder(routing::due_reminder r,
                                                                 std::int64_t due_ms) {
    // XX: only while it is still scheduled (not sent or cancelled meanwhile).
    auto res = co_await call(
        conn_, cmd("ZADD", keys::reminders_due(), "XX", std::to_string(due_ms), member_of(r)));
    if (!res) {
        co_return res.error();
    }
    co_return outcome<void>{};
}

awaitable<outcome<bool>> redis_workflow_store::send_reminder(routing::due_reminder r,
                                                             std::int64_t now_ms) {
    if (conn_.is_cluster()) {
        co_return co_await send_reminder_steps(std::move(r), now_ms);
    }
    std::vector<std::string> k{keys::conversation(r.conversation_id), keys::reminders_due(),
                               keys::reminders()};
    std::vector<std::string> a{r.conversation_id, r.to_specialist ? "s" : "c",
                               std::to_string(now_ms), std::to_string(r.unread_since_ms),
                               std::to_string(cfg_.reminder_stream_max)};
    auto res = co_await call_script(conn_, scripts::remind(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    co_return script_status(*res) == "ok";
}

}  // namespace confide::store

namespace confide::store {

awaitable<outcome<bool>> redis_workflow_store::send_reminder_steps(routing::due_reminder r,
                                                                   std::int64_t now_ms) {
    const std::string member = member_of(r);
    const std::string party = r.to_specialist ? "s" : "c";
    const std::string since = std::to_string(r.unread_since_ms);
    const auto conversation_step = [&](const char* stage) {
        return call_script(conn_, scripts::remind_conversation(),
                           cmd(keys::conversation(r.conversation_id)), cmd(party, since, stage));
    };
    // 1. Still unread since then?
    auto checked = co_await conversation_step("check");
    if (!checked) {
        co_return checked.error();
    }
    const auto status = script_status(*checked);
    if (status != "ok" || checked->elements.size() != 3) {
        if (status == "gone") {
            auto gone = co_await call(conn_, cmd("ZREM", keys::reminders_due(), member));
            if (!gone) {
                co_return gone.error();
            }
        }
        co_return false;  // 'moved': it stays scheduled at its new time
    }
    // 2. The reminder, once per burst (a marker in the stream's slot), 3. the burst marked sent,
    // 4. the schedule entry removed: a crash before 4 leaves the entry due, and the next sweep
    // finds the marker (nothing appended twice) or, after 3, nothing left to do.
    auto appended = co_await call_script(
        conn_, scripts::remind_stream(), cmd(keys::reminder_sent(member, since), keys::reminders()),
        cmd(std::to_string(reminder_marker_ttl_s), std::to_string(cfg_.reminder_stream_max), "user",
            checked->elements[1].str, "role", r.to_specialist ? "specialist" : "client",
            "conversation", r.conversation_id, "unread_since", since, "waited_ms",
            std::to_string(now_ms - r.unread_since_ms), "unread", checked->elements[2].str, "at",
            std::to_string(now_ms)));
    if (!appended) {
        co_return appended.error();
    }
    auto marked = co_await conversation_step("mark");
    if (!marked) {
        co_return marked.error();
    }
    auto done = co_await call(conn_, cmd("ZREM", keys::reminders_due(), member));
    if (!done) {
        co_return done.error();
    }
    co_return script_status(*appended) == "ok";
}

}  // namespace confide::store

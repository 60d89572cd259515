#include "store/directory_store_redis.hpp"

#include "store/commands.hpp"
#include "store/fields.hpp"
#include "store/keys.hpp"

namespace confide::store {
redis_directory_store::redis_directory_store(db conn) : conn_(std::move(conn)) {}

awaitable<outcome<std::uint64_t>> redis_directory_store::version() {
    auto res = co_await call(conn_, cmd("GET", keys::directory_version()));
    if (!res) {
        co_return res.error();
    }
    co_return int_or_zero<std::uint64_t>(res->str);
}

awaitable<outcome<std::pair<std::uint64_t, std::vector<routing::specialist_profile>>>>
redis_directory_store::load() {
    // The version is read before the ids, so the entries read next are at least as new as it:
    // on one Redis a pipeline keeps that order; on a cluster the two keys are on their own
    // masters, so the ids are asked for once the version has been read.
    std::vector<outcome<reply>> head;
    if (conn_.is_cluster()) {
        head.push_back(co_await call(conn_, cmd("GET", keys::directory_version())));
        head.push_back(co_await call(conn_, cmd("ZRANGE", keys::directory(), "0", "-1")));
    } else {
        head = co_await call_all(conn_, cmds(cmd("GET", keys::directory_version()),
                                             cmd("ZRANGE", keys::directory(), "0", "-1")));
    }
    for (const auto& r : head) {
        if (!r) {
            co_return r.error();
        }
    }
    const auto version = int_or_zero<std::uint64_t>(head[0]->str);
    std::vector<std::vector<std::string>> reads;
    reads.reserve(head[1]->elements.size());
    for (const auto& id : head[1]->elements) {
        reads.push_back({"HGETALL", keys::profile(id.str)});
    }
    auto rows = co_await call_all(conn_, std::move(reads));
    std::vector<routing::specialist_profile> out;
    out.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (!rows[i]) {
            co_return rows[i].error();
        }
        // An id whose entry is gone was removed after the ids were read: not listed.
        if (auto p = parse_profile(head[1]->elements[i].str, flat_strings(*rows[i]))) {
            out.push_back(std::move(*p));
        }
    }
    co_return std::pair{version, std::move(out)};
}

awaitable<outcome<std::vector<routing::specialist_activity>>> redis_directory_store::activity(
    std::vector<std::string> user_ids, std::int64_t since_ms) {
    std::vector<std::vector<std::string>> reads;
    reads.reserve(user_ids.size() * 2);
    for (const auto& id : user_ids) {
        reads.push_back({"HMGET", keys::user(id), "presence", "last_seen", "lost"});
        reads.push_back(
            {"ZRANGEBYSCORE", keys::first_replies(id), std::to_string(since_ms), "+inf"});
    }
    auto rows = co_await call_all(conn_, std::move(reads));
    std::vector<routing::specialist_activity> out(user_ids.size());
    for (std::size_t i = 0; i < user_ids.size(); ++i) {
        const auto& p = rows[2 * i];
        const auto& replies = rows[2 * i + 1];
        if (!p) {
            co_return p.error();
        }
        if (!replies) {
            co_return replies.error();
        }
        auto& a = out[i];
        a.presence.user_id = user_ids[i];
        if (p->is_array() && p->elements.size() == 3) {
            a.presence.state = parse_presence(p->elements[0].str);
            a.presence.last_seen_ms = int_or_zero<std::int64_t>(p->elements[1].str);
            a.presence.connection_lost = p->elements[2].str == "1";
        }
        // Members are "<ms it took>:<conversation id>".
        for (const auto& e : replies->elements) {
            std::uint64_t took = 0;
            if (parse_int(std::string_view(e.str).substr(0, e.str.find(':')), took)) {
                a.first_reply_ms.push_back(took);
            }
        }
    }
    co_return out;
}

}  // namespace confide::store

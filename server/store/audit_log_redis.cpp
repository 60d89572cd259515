#include "store/audit_log_redis.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "store/commands.hpp"
#include "store/keys.hpp"

#include <charconv>
#include <string_view>
#include <utility>

namespace confide::store {
namespace {

// Stream field names, and the event member each holds.
struct field {
    const char* name;
    std::string routing::audit_event::*member;
};
constexpr field fields[] = {
    {"u", &routing::audit_event::user_id},          {"d", &routing::audit_event::device_id},
    {"ip", &routing::audit_event::address},         {"c", &routing::audit_event::connection_id},
    {"cv", &routing::audit_event::conversation_id}, {"r", &routing::audit_event::detail},
};

// Entries read per XRANGE.
constexpr std::size_t batch = 500;

std::int64_t ms_of_id(std::string_view id) {
    std::int64_t ms = 0;
    std::from_chars(id.data(), id.data() + id.size(), ms);
    return ms;
}

// The entry after `id` ("<ms>-<seq>"), for the next batch.
std::string after(std::string_view id) {
    return "(" + std::string(id);
}

}  // namespace

redis_audit_log::redis_audit_log(db conn, audit_config cfg)
    : conn_(std::move(conn)), cfg_(std::move(cfg)) {}

std::vector<std::string> redis_audit_log::add_command(routing::audit_event&& e) const {
    const std::int64_t cutoff = now_ms() - cfg_.retention.count();
    std::vector<std::string> args{"XADD",
                                  keys::audit_log(),
                                  "MINID",
                                  std::to_string(cutoff > 0 ? cutoff : 0),
                                  "*",
                                  "a",
                                  std::string(routing::to_string(e.action))};
    for (const auto& f : fields) {
        if (!(e.*f.member).empty()) {
            args.emplace_back(f.name);
            args.push_back(std::move(e.*f.member));
        }
    }
    if (!cfg_.node_id.empty()) {
        args.emplace_back("n");
        args.push_back(cfg_.node_id);
    }
    return args;
}

awaitable<outcome<void>> redis_audit_log::store(routing::audit_event e) {
    auto r = co_await call(conn_, add_command(std::move(e)));
    if (!r) {
        co_return r.error();
    }
    co_return outcome<void>{};
}

void redis_audit_log::record(routing::audit_event e) {
    log::audit(routing::to_json_line(e));
    auto args = add_command(std::move(e));
    auto report = [](boost::system::error_code ec, const reply& r) {
        if (ec) {
            log::warn("audit event not stored in Redis (it is in the log): {}",
                      storage_failure(ec, r).message);
        }
    };
    conn_.async_exec(std::move(args), report);
    if ((added_.fetch_add(1, std::memory_order_relaxed) + 1) % cfg_.trim_every == 0) {
        conn_.async_exec(
            {"XTRIM", keys::audit_log(), "MAXLEN", "~", std::to_string(cfg_.max_entries)}, report);
    }
}

awaitable<outcome<audit_page>> redis_audit_log::query(std::string user_id, std::int64_t from_ms,
                                                      std::int64_t to_ms, std::uint32_t limit,
                                                      std::size_t max_scanned) const {
    audit_page page;
    std::string start = std::to_string(from_ms < 0 ? 0 : from_ms);
    const std::string end = std::to_string(to_ms);
    std::size_t scanned = 0;
    while (true) {
        auto r = co_await call(
            conn_, cmd("XRANGE", keys::audit_log(), start, end, "COUNT", std::to_string(batch)));
        if (!r) {
            co_return r.error();
        }
        for (const auto& entry : r->elements) {
            if (entry.elements.size() != 2) {
                continue;
            }
            const std::string& id = entry.elements[0].str;
            start = after(id);
            ++scanned;
            routing::audit_event e;
            e.time_ms = ms_of_id(id);
            bool known = false;
            const auto& kv = entry.elements[1].elements;
            for (std::size_t i = 0; i + 1 < kv.size(); i += 2) {
                const std::string& name = kv[i].str;
                if (name == "a") {
                    auto a = routing::parse_audit_action(kv[i + 1].str);
                    known = a.has_value();
                    e.action = a.value_or(routing::audit_action::admin_command);
                    continue;
                }
                for (const auto& f : fields) {
                    if (name == f.name) {
                        e.*f.member = kv[i + 1].str;
                    }
                }
            }
            if (!known || (!user_id.empty() && e.user_id != user_id)) {
                continue;
            }
            if (page.events.size() == limit) {
                page.more = true;
                co_return page;
            }
            page.events.push_back(std::move(e));
        }
        if (r->elements.size() < batch) {
            co_return page;
        }
        if (scanned >= max_scanned) {
            page.more = true;
            co_return page;
        }
    }
}

}  // namespace confide::store

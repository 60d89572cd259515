#include "store/commands.hpp"

#include "common/log.hpp"
#include "store/store_metrics.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace confide::store {
namespace {

// Scripts name their errors as the wire protocol does (confide.v1.ErrorCode), which errc mirrors.
errc parse_code(std::string_view code) {
    static constexpr std::array<std::pair<std::string_view, errc>, 10> names{{
        {"UNAUTHENTICATED", errc::unauthenticated},
        {"FORBIDDEN", errc::forbidden},
        {"INVALID_ARGUMENT", errc::invalid_argument},
        {"TOO_LARGE", errc::too_large},
        {"RATE_LIMITED", errc::rate_limited},
        {"UNAVAILABLE", errc::unavailable},
        {"CONFLICT", errc::conflict},
        {"FAILED_PRECONDITION", errc::failed_precondition},
        {"INTERNAL", errc::internal},
        {"NOT_FOUND", errc::not_found},
    }};
    for (const auto& [name, e] : names) {
        if (name == code) {
            return e;
        }
    }
    return errc::internal;
}

using exec_result = std::tuple<boost::system::error_code, reply>;

// Every command at once; command i on the master of slots[i] when `slots` is not empty, else on
// its key's.
template <class Token>
auto async_call_all(const db& d, std::vector<std::vector<std::string>> commands,
                    std::vector<std::uint16_t> slots, Token&& token) {
    return asio::async_initiate<Token, void(std::vector<exec_result>)>(
        [&d, slots = std::move(slots)](auto handler, std::vector<std::vector<std::string>> cmds) {
            using handler_t = decltype(handler);
            struct state {
                explicit state(handler_t h, std::size_t n)
                    : results(n), left(n), handler(std::move(h)) {}
                std::vector<exec_result> results;
                std::atomic<std::size_t> left;
                handler_t handler;
            };
            auto ex = asio::get_associated_executor(handler);
            auto st = std::make_shared<state>(std::move(handler), cmds.size());
            if (cmds.empty()) {
                asio::post(ex, [st]() mutable { st->handler(std::move(st->results)); });
                return;
            }
            const auto sent = metrics::histogram::now();
            for (std::size_t i = 0; i < cmds.size(); ++i) {
                auto done = [st, i, ex, sent](boost::system::error_code ec, reply r) {
                    stats::redis_command_latency.observe_since(sent);
                    st->results[i] = {ec, std::move(r)};
                    // acq_rel: the last one sees every other result.
                    if (st->left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                        asio::post(ex, [st]() mutable { st->handler(std::move(st->results)); });
                    }
                };
                if (slots.empty()) {
                    d.async_exec(std::move(cmds[i]), std::move(done));
                } else {
                    d.async_exec_on(slots[i], std::move(cmds[i]), std::move(done));
                }
            }
        },
        token, std::move(commands));
}

}  // namespace

std::vector<std::string_view> flat_strings(const reply& r, std::size_t from) {
    std::vector<std::string_view> out;
    if (!r.is_array()) {
        return out;
    }
    out.reserve(r.elements.size());
    for (std::size_t i = from; i < r.elements.size(); ++i) {
        out.emplace_back(r.elements[i].str);
    }
    return out;
}

failure storage_failure(const boost::system::error_code& ec, const reply& r) {
    stats::count_redis_error(ec, r);
    std::string why = ec.message();
    if (r.is_error()) {
        why += ": " + r.str;
    }
    if (r.is_error() && r.str.starts_with("OOM")) {
        why = "Redis is out of memory";
    }
    // While Redis is away every request fails the same way, and the connection logs its own
    // state changes: one line per request would flood the log.
    if (ec == redis::errc::not_connected) {
        log::debug("redis: {}", why);
    } else {
        log::warn("redis: {}", why);
    }
    return fail(errc::unavailable, "storage is unavailable, retry later");
}

awaitable<outcome<reply>> call_on(const db& d, std::uint16_t slot, std::vector<std::string> args) {
    if (d.single() != nullptr) {
        co_return co_await call(d, std::move(args));
    }
    auto [ec, r] = co_await d.cluster()->async_exec(slot, std::move(args), use_nothrow);
    if (ec) {
        co_return storage_failure(ec, r);
    }
    co_return std::move(r);
}

std::vector<std::uint16_t> master_slots(const db& d) {
    std::vector<std::uint16_t> out;
    const auto map = d.cluster() ? d.cluster()->topology() : nullptr;
    if (!map) {
        return out;
    }
    out.resize(map->masters.size(), redis::slot_map::no_owner);
    for (std::uint16_t slot = 0; slot < redis::slot_count; ++slot) {
        const auto m = map->owner[slot];
        if (m != redis::slot_map::no_owner && out[m] == redis::slot_map::no_owner) {
            out[m] = slot;
        }
    }
    std::erase(out, redis::slot_map::no_owner);
    return out;
}

std::vector<std::uint16_t> scan_slots(const db& d) {
    return d.is_cluster() ? master_slots(d) : std::vector<std::uint16_t>{0};
}

awaitable<outcome<reply>> call(const db& d, std::vector<std::string> args) {
    const auto sent = metrics::histogram::now();
    boost::system::error_code ec;
    reply r;
    if (auto* conn = d.single()) {
        std::tie(ec, r) = co_await conn->async_exec(std::move(args), use_nothrow);
    } else {
        const auto slot = db::slot_of(args);
        std::tie(ec, r) = co_await d.cluster()->async_exec(slot, std::move(args), use_nothrow);
    }
    stats::redis_command_latency.observe_since(sent);
    if (ec) {
        co_return storage_failure(ec, r);
    }
    co_return std::move(r);
}

std::string_view script_status(const reply& r) noexcept {
    if (!r.is_array() || r.elements.empty() || !r.elements[0].is_string()) {
        return {};
    }
    return r.elements[0].str;
}

awaitable<outcome<reply>> call_script(const db& d, const redis::script& s,
                                      std::vector<std::string> keys,
                                      std::vector<std::string> args) {
    const auto sent = metrics::histogram::now();
    // Not a conditional expression with a co_await in each branch: g++ 12 destroys the result
    // of such an expression twice.
    boost::system::error_code ec;
    reply r;
    if (auto* conn = d.single()) {
        std::tie(ec, r) = co_await s.run(*conn, std::move(keys), std::move(args));
    } else {
        std::tie(ec, r) = co_await s.run(*d.cluster(), std::move(keys), std::move(args));
    }
    stats::redis_command_latency.observe_since(sent);
    if (ec) {
        co_return storage_failure(ec, r);
    }
    co_return script_reply(std::move(r));
}

outcome<reply> script_reply(reply r) {
    if (script_status(r) == "err") {
        if (r.elements.size() < 3) {
            return fail(errc::internal, "malformed script reply");
        }
        return fail(parse_code(r.elements[1].str), r.elements[2].str);
    }
    return r;
}

awaitable<std::vector<std::tuple<boost::system::error_code, reply>>> exec_all(
    const db& d, std::vector<std::vector<std::string>> commands) {
    co_return co_await async_call_all(d, std::move(commands), {}, asio::use_awaitable);
}

awaitable<outcome<std::int64_t>> wait_for_replicas(const db& d, std::vector<std::uint16_t> slots,
                                                   unsigned replicas,
                                                   std::chrono::milliseconds timeout) {
    // One WAIT per master: two slots of one master share its connection, where one WAIT
    // covers every write before it.
    if (d.single() != nullptr) {
        slots.resize(1);
    } else if (const auto map = d.cluster()->topology()) {
        std::vector<std::uint16_t> seen;
        std::erase_if(slots, [&](std::uint16_t s) {
            const auto owner = map->owner[s];
            if (std::find(seen.begin(), seen.end(), owner) != seen.end()) {
                return true;
            }
            seen.push_back(owner);
            return false;
        });
    }
    std::vector<std::vector<std::string>> waits(
        slots.size(), cmd("WAIT", std::to_string(replicas), std::to_string(timeout.count())));
    auto results =
        co_await async_call_all(d, std::move(waits), std::move(slots), asio::use_awaitable);
    std::int64_t fewest = replicas;
    for (auto& [ec, r] : results) {
        if (ec) {
            co_return storage_failure(ec, r);
        }
        fewest = std::min(fewest, r.is_integer() ? r.integer : std::int64_t{0});
    }
    co_return fewest;
}

awaitable<outcome<scan_page>> scan(db conn, std::string cursor, std::string pattern,
                                   std::string_view type, std::uint32_t count, std::uint16_t slot) {
    auto args =
        cmd("SCAN", std::move(cursor), "MATCH", std::move(pattern), "COUNT", std::to_string(count));
    if (!type.empty()) {
        args.emplace_back("TYPE");
        args.emplace_back(type);
    }
    auto page = co_await call_on(conn, slot, std::move(args));
    if (!page) {
        co_return page.error();
    }
    if (!page->is_array() || page->elements.size() != 2) {
        co_return fail(errc::unavailable, "unexpected reply to SCAN");
    }
    scan_page out{std::move(page->elements[0].str), {}};
    out.keys.reserve(page->elements[1].elements.size());
    for (auto& k : page->elements[1].elements) {
        out.keys.push_back(std::move(k.str));
    }
    co_return out;
}

awaitable<std::vector<outcome<reply>>> call_all(const db& d,
                                                std::vector<std::vector<std::string>> commands) {
    auto results = co_await exec_all(d, std::move(commands));
    std::vector<outcome<reply>> out;
    out.reserve(results.size());
    for (auto& [ec, r] : results) {
        if (ec) {
            out.emplace_back(storage_failure(ec, r));
        } else {
            out.emplace_back(std::move(r));
        }
    }
    co_return out;
}

}  // namespace confide::store

#include "store/redis_check.hpp"

#include "crypto/fingerprint.hpp"
#include "store/commands.hpp"
#include "store/keys.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <unordered_map>
#include <vector>

namespace confide::store {
namespace {

std::string config_value(const outcome<reply>& r) {
    // CONFIG GET answers [name, value].
    if (r && r->is_array() && r->elements.size() == 2) {
        return r->elements[1].str;
    }
    return {};
}

std::string info_field(const std::string& info, std::string_view name) {
    const std::string key = std::string(name) + ":";
    auto pos = info.find(key);
    if (pos == std::string::npos) {
        return {};
    }
    pos += key.size();
    auto end = info.find_first_of("\r\n", pos);
    return info.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

// One command in the Redis protocol (RESP), binary safe.
std::string resp(std::initializer_list<std::string_view> args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (auto a : args) {
        out += "$" + std::to_string(a.size()) + "\r\n";
        out += a;
        out += "\r\n";
    }
    return out;
}

// Sends AUTH (if any) and PING on `socket` and reads the answers: the first error line, or
// empty when PING answered +PONG.
template <class Socket>
awaitable<std::string> auth_and_ping(Socket& socket, const redis::config& cfg) {
    std::string request;
    int answers = 1;
    if (!cfg.password.empty()) {
        request += resp({"AUTH", cfg.password});
        ++answers;
    }
    request += resp({"PING"});
    auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(request), use_nothrow);
    if (wec) {
        co_return "cannot send to Redis: " + wec.message();
    }
    std::string buffer;
    for (int i = 0; i < answers; ++i) {
        auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n",
                                                       use_nothrow);
        if (ec) {
            co_return "the connection ended before Redis answered PING (" + ec.message() + ")";
        }
        std::string line = buffer.substr(0, n - 2);
        buffer.erase(0, n);
        if (!line.empty() && line.front() == '-') {
            co_return "Redis answered " + line.substr(0, 200);
        }
    }
    co_return std::string();
}

awaitable<std::string> diagnose_unbounded(redis::config cfg) {
    auto ex = co_await asio::this_coro::executor;
    if (!cfg.unix_socket.empty()) {
        asio::local::stream_protocol::socket socket(ex);
        auto [ec] = co_await socket.async_connect(
            asio::local::stream_protocol::endpoint(cfg.unix_socket), use_nothrow);
        if (ec) {
            co_return "cannot connect to unix:" + cfg.unix_socket + ": " + ec.message();
        }
        co_return co_await auth_and_ping(socket, cfg);
    }
    asio::ip::tcp::resolver resolver(ex);
    auto [rec, found] =
        co_await resolver.async_resolve(cfg.host, std::to_string(cfg.port), use_nothrow);
    if (rec) {
        co_return "cannot resolve " + cfg.host + ": " + rec.message();
    }
    asio::ip::tcp::socket socket(ex);
    auto [ec, ep] = co_await asio::async_connect(socket, found, use_nothrow);
    if (ec) {
        co_return "cannot connect to " + cfg.host + ":" + std::to_string(cfg.port) + ": " +
            ec.message();
    }
    co_return co_await auth_and_ping(socket, cfg);
}

}  // namespace

awaitable<std::string> diagnose_connection(redis::config cfg) {
    using namespace asio::experimental::awaitable_operators;
    const auto limit = cfg.connect_timeout + cfg.command_timeout;
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    auto result = co_await (diagnose_unbounded(std::move(cfg)) || timer.async_wait(use_nothrow));
    if (result.index() == 0) {
        co_return std::get<0>(std::move(result));
    }
    co_return "no answer from Redis within " + std::to_string(limit.count()) + " ms";
}

namespace {

// The answers check_persistence() needs, from one Redis or one master (by a slot it owns).
awaitable<std::vector<std::tuple<boost::system::error_code, reply>>> persistence_rows(
    db conn, std::optional<std::uint16_t> slot) {
    auto commands = cmds(cmd("CONFIG", "GET", "appendonly"), cmd("CONFIG", "GET", "appendfsync"),
                         cmd("CONFIG", "GET", "maxmemory-policy"), cmd("INFO", "server"),
                         cmd("INFO", "replication"));
    if (!slot) {
        co_return co_await exec_all(conn, std::move(commands));
    }
    std::vector<std::tuple<boost::system::error_code, reply>> out;
    out.reserve(commands.size());
    for (auto& c : commands) {
        out.emplace_back(co_await conn.cluster()->async_exec(*slot, std::move(c), use_nothrow));
    }
    co_return out;
}

}  // namespace

awaitable<outcome<persistence_report>> check_persistence(db conn) {
    if (!conn.is_cluster()) {
        co_return co_await check_persistence_of(conn, std::nullopt);
    }
    // Every master must keep what it acks: the first one that does not names the problem.
    const auto slots = master_slots(conn);
    if (slots.empty()) {
        co_return fail(errc::unavailable, "no slot map from the Redis Cluster yet");
    }
    outcome<persistence_report> first = fail(errc::unavailable, "no master");
    for (const auto slot : slots) {
        auto rep = co_await check_persistence_of(conn, slot);
        if (!rep || !rep->problem.empty()) {
            co_return rep;
        }
        if (!first) {
            first = std::move(rep);
        } else {
            first->replicas = std::min(first->replicas, rep->replicas);
        }
    }
    co_return first;
}

awaitable<outcome<persistence_report>> check_persistence_of(db conn,
                                                            std::optional<std::uint16_t> slot) {
    static constexpr std::array<const char*, 5> names{
        "CONFIG GET appendonly", "CONFIG GET appendfsync", "CONFIG GET maxmemory-policy",
        "INFO server", "INFO replication"};
    auto results = co_await persistence_rows(conn, slot);
    std::vector<outcome<reply>> rows;
    for (std::size_t i = 0; i < results.size(); ++i) {
        auto& [ec, r] = results[i];
        if (ec == redis::errc::server_error) {
            // Redis answered, and said no: a renamed or forbidden command (ACL), say which.
            co_return fail(errc::unavailable, std::string("Redis refused ") + names[i] + ": " +
                                                  r.str + " (Confide needs CONFIG GET and INFO)");
        }
        if (ec) {
            co_return fail(errc::unavailable, "Redis did not answer (" + ec.message() + ")");
        }
        rows.emplace_back(std::move(r));
    }
    persistence_report rep;
    rep.appendonly = config_value(rows[0]);
    rep.appendfsync = config_value(rows[1]);
    rep.maxmemory_policy = config_value(rows[2]);
    rep.version = info_field(rows[3]->str, "redis_version");
    const auto replicas = info_field(rows[4]->str, "connected_slaves");
    std::from_chars(replicas.data(), replicas.data() + replicas.size(), rep.replicas);

    int major = 0;
    std::from_chars(rep.version.data(), rep.version.data() + rep.version.size(), major);
    if (major < 7) {
        rep.problem = "Redis " + rep.version + " is too old: Confide needs Redis 7 or newer";
    } else if (rep.appendonly != "yes") {
        rep.problem = "Redis persistence is off (appendonly " + rep.appendonly +
                      "): acked messages would be lost on a restart. Set 'appendonly yes'";
    } else if (rep.maxmemory_policy != "noeviction") {
        rep.problem = "Redis evicts keys when memory is full (maxmemory-policy " +
                      rep.maxmemory_policy +
                      "): acked messages could silently vanish. Set 'maxmemory-policy noeviction'";
    } else if (rep.appendfsync == "no") {
        rep.warning =
            "appendfsync no: the operating system decides when acked messages reach the disk; a "
            "machine crash can lose the last ~30 s. Use 'everysec' (up to 1 s) or 'always'";
    }
    co_return rep;
}

awaitable<outcome<layout_report>> check_layout(db conn, std::string_view expected) {
    const std::string key = keys::layout();
    auto current = co_await call(conn, cmd("GET", key));
    if (!current) {
        co_return current.error();
    }
    layout_report rep;
    if (current->is_string()) {
        rep.version = current->str;
    } else {
        // No version: an empty Redis, or one holding another application's keys or only the
        // directory (confide-admin may list specialists before any server starts), or Confide
        // data of layout 1 (which had no version key). Only the last is a problem. SCAN visits
        // every key at most once; this runs only until the version is recorded.
        // On a cluster SCAN sees one master's keys: every master is scanned.
        const auto slots = scan_slots(conn);
        if (slots.empty()) {
            co_return fail(errc::unavailable, "no slot map from the Redis Cluster yet");
        }
        bool found = false;
        for (std::size_t i = 0; i < slots.size() && !found; ++i) {
            std::string cursor = "0";
            do {
                auto page = co_await scan(conn, std::move(cursor), "cf:*", {}, 1000, slots[i]);
                if (!page) {
                    co_return page.error();
                }
                cursor = std::move(page->cursor);
                for (const auto& k : page->keys) {
                    found = found || !keys::of_any_layout(k);
                }
            } while (!found && cursor != "0");
        }
        if (found) {
            rep.problem =
                "Redis holds Confide data of layout 1 (written before layout versions); this "
                "server reads and writes layout " +
                std::string(expected) +
                ". Start it on an empty Redis (or one without cf:* keys); docs/design.md, "
                "\"Key layout\"";
            co_return rep;
        }
        auto set = co_await call(conn, cmd("SET", key, std::string(expected), "NX"));
        if (!set) {
            co_return set.error();
        }
        rep.recorded = !set->is_nil();
        auto now = co_await call(conn, cmd("GET", key));
        if (!now) {
            co_return now.error();
        }
        rep.version = now->is_string() ? now->str : std::string();
    }
    if (rep.version != expected) {
        std::string hint;
        if (rep.version == keys::layout_version_plaintext) {
            hint =
                "; that data was stored in plaintext (--allow-plaintext-storage) and this "
                "server seals what it stores (--data-key-file)";
        } else if (rep.version == keys::layout_version) {
            hint = "; that data is sealed: start with its --data-key-file";
        }
        rep.problem = "Redis holds Confide data of layout " + rep.version +
                      "; this server reads and writes layout " + std::string(expected) + hint +
                      " (docs/design.md, \"Key layout\")";
    }
    co_return rep;
}

namespace {

// What a key is checked by: an HMAC under it of a fixed text, which says nothing about the key.
std::string check_value(const crypto::secret_key& k) {
    const crypto::fingerprinter mac(k);
    auto v = mac({"confide.key-check.v1"});
    return v ? std::move(*v) : std::string();
}

}  // namespace

awaitable<outcome<std::string>> check_keys(db conn, const sealer& s, std::string source) {
    if (!s.seals()) {
        co_return std::string();
    }
    const auto& ring = s.ring();
    auto stored = co_await call(conn, cmd("HGETALL", keys::key_check()));
    if (!stored) {
        co_return stored.error();
    }
    std::unordered_map<std::string, std::string> known;
    const auto flat = flat_strings(*stored);
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
        known.emplace(flat[i], flat[i + 1]);
    }
    std::vector<std::string> add{"HSET", keys::key_check()};
    bool any_kek_known = false;
    bool any_kek_stored = false;
    for (const auto& [field, value] : known) {
        any_kek_stored = any_kek_stored || field.starts_with("kek:");
    }
    for (const auto& id : ring.ids()) {
        const std::string field = "kek:" + id;
        const std::string value = check_value(*ring.find(id));
        if (auto it = known.find(field); it != known.end()) {
            if (it->second != value) {
                source.append(": the key-encryption key '")
                    .append(id)
                    .append(
                        "' is not the key this Redis's data was sealed with (a wrong or a "
                        "changed key file)");
                co_return source;
            }
            any_kek_known = true;
        } else {
            add.push_back(field);
            add.push_back(value);
        }
    }
    if (any_kek_stored && !any_kek_known) {
        std::string ids;
        for (const auto& [field, value] : known) {
            if (field.starts_with("kek:")) {
                ids += (ids.empty() ? "" : ", ") + field.substr(4);
            }
        }
        source.append(": holds none of the key-encryption keys this Redis's data was sealed with (")
            .append(ids)
            .append(")");
        co_return source;
    }
    const std::string fp = check_value(ring.fingerprint_key());
    if (auto it = known.find("fingerprint"); it != known.end()) {
        if (it->second != fp) {
            source.append(
                ": its fingerprint key is not the one this Redis's data was written with "
                "(retries would be refused as conflicts)");
            co_return source;
        }
    } else {
        add.emplace_back("fingerprint");
        add.push_back(fp);
    }
    if (add.size() > 2) {
        auto set = co_await call(conn, std::move(add));
        if (!set) {
            co_return set.error();
        }
    }
    co_return std::string();
}

}  // namespace confide::store

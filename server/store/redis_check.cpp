#include "store/redis_check.hpp"

#include "store/commands.hpp"

#include <charconv>

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

}  // namespace

awaitable<outcome<persistence_report>> check_persistence(redis::connection& conn) {
    auto rows = co_await call_all(
        conn, cmds(cmd("CONFIG", "GET", "appendonly"), cmd("CONFIG", "GET", "appendfsync"),
                   cmd("CONFIG", "GET", "maxmemory-policy"), cmd("INFO", "server")));
    for (const auto& r : rows) {
        if (!r) {
            co_return fail(errc::unavailable,
                           "cannot read the Redis settings (CONFIG GET / INFO): is Redis up, "
                           "and are these commands allowed?");
        }
    }
    persistence_report rep;
    rep.appendonly = config_value(rows[0]);
    rep.appendfsync = config_value(rows[1]);
    rep.maxmemory_policy = config_value(rows[2]);
    rep.version = info_field(rows[3]->str, "redis_version");

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

}  // namespace confide::store

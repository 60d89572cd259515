#include "store/redis_check.hpp"

#include "store/commands.hpp"
#include "store/keys.hpp"

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

awaitable<outcome<layout_report>> check_layout(redis::connection& conn) {
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
        std::string cursor = "0";
        bool found = false;
        do {
            auto page = co_await call(conn, cmd("SCAN", cursor, "MATCH", "cf:*", "COUNT", "1000"));
            if (!page) {
                co_return page.error();
            }
            if (!page->is_array() || page->elements.size() != 2) {
                co_return fail(errc::unavailable, "unexpected reply to SCAN");
            }
            cursor = page->elements[0].str;
            for (const auto& k : page->elements[1].elements) {
                found = found || !keys::of_any_layout(k.str);
            }
        } while (!found && cursor != "0");
        if (found) {
            rep.problem =
                "Redis holds Confide data of layout 1 (written before layout versions); this "
                "server reads and writes layout " +
                std::string(keys::layout_version) +
                ". Start it on an empty Redis (or one without cf:* keys); docs/design.md, "
                "\"Key layout\"";
            co_return rep;
        }
        auto set = co_await call(conn, cmd("SET", key, std::string(keys::layout_version), "NX"));
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
    if (rep.version != keys::layout_version) {
        rep.problem = "Redis holds Confide data of layout " + rep.version +
                      "; this server reads and writes layout " + std::string(keys::layout_version) +
                      " (docs/design.md, \"Key layout\")";
    }
    co_return rep;
}

}  // namespace confide::store

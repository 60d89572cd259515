#include "store/directory_admin.hpp"

#include "store/commands.hpp"
#include "store/directory_store_redis.hpp"
#include "store/fields.hpp"
#include "store/keys.hpp"
#include "store/scripts.hpp"

#include <algorithm>

namespace confide::store {

directory_admin::directory_admin(db conn) : conn_(std::move(conn)) {}

awaitable<outcome<void>> directory_admin::put(routing::specialist_profile p, const char* mode) {
    const bool cluster = conn_.is_cluster();
    std::string script_mode = mode;
    if (cluster && script_mode == "add") {
        // On a cluster the entry and the index are separate steps (docs/design.md, "The
        // directory on a Redis Cluster"): an entry that exists but is not indexed is an add
        // stopped between them, which this add finishes.
        auto indexed = co_await call(conn_, cmd("ZSCORE", keys::directory(), p.id));
        if (!indexed) {
            co_return indexed.error();
        }
        if (indexed->is_nil()) {
            script_mode = "put";
        }
    }
    // On a cluster the script gets the entry's own key in place of the global ones (other slots)
    // and leaves them to the steps below.
    const auto entry = keys::profile(p.id);
    std::vector<std::string> k{entry, keys::user(p.id), cluster ? entry : keys::directory(),
                               cluster ? entry : keys::directory_version()};
    std::vector<std::string> a{p.id, std::move(script_mode)};
    for (auto& f : profile_fields(p)) {
        a.push_back(std::move(f));
    }
    auto res = co_await call_script(conn_, scripts::directory_put(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
    }
    if (cluster) {
        co_return co_await index_step(p.id, true);
    }
    co_return outcome<void>{};
}

awaitable<outcome<void>> directory_admin::index_step(std::string id, bool listed) {
    // Index first, version after: a node that sees the new version reloads an index that
    // already has the change (redis_directory_store::load reads the version first).
    // (Built before the co_await: g++ 12 destroys a conditional's temporary twice around one.)
    auto change = listed ? cmd("ZADD", keys::directory(), "0", std::move(id))
                         : cmd("ZREM", keys::directory(), std::move(id));
    auto index = co_await call(conn_, std::move(change));
    if (!index) {
        co_return index.error();
    }
    auto version = co_await call(conn_, cmd("INCR", keys::directory_version()));
    if (!version) {
        co_return version.error();
    }
    co_return outcome<void>{};
}

awaitable<outcome<void>> directory_admin::add(routing::specialist_profile p) {
    co_return co_await put(std::move(p), "add");
}

awaitable<outcome<void>> directory_admin::update(routing::specialist_profile p) {
    co_return co_await put(std::move(p), "update");
}

awaitable<outcome<bool>> directory_admin::remove(std::string id) {
    if (conn_.is_cluster()) {
        // The entry first (from then on the specialist cannot sign in as one), then the index:
        // a remove stopped between them is finished by running it again.
        auto entry = co_await call(conn_, cmd("DEL", keys::profile(id)));
        if (!entry) {
            co_return entry.error();
        }
        auto indexed = co_await call(conn_, cmd("ZSCORE", keys::directory(), id));
        if (!indexed) {
            co_return indexed.error();
        }
        const bool removed = entry->integer == 1 || !indexed->is_nil();
        if (removed) {
            if (auto step = co_await index_step(std::move(id), false); !step) {
                co_return step.error();
            }
        }
        co_return removed;
    }
    auto res = co_await call_script(
        conn_, scripts::directory_remove(),
        cmd(keys::profile(id), keys::directory(), keys::directory_version()), cmd(id));
    if (!res) {
        co_return res.error();
    }
    co_return res->elements.size() == 2 && res->elements[1].integer == 1;
}

awaitable<outcome<std::optional<routing::specialist_profile>>> directory_admin::get(
    std::string id) {
    auto res = co_await call(conn_, cmd("HGETALL", keys::profile(id)));
    if (!res) {
        co_return res.error();
    }
    co_return parse_profile(id, flat_strings(*res));
}

awaitable<outcome<std::vector<routing::specialist_profile>>> directory_admin::list() {
    redis_directory_store store(conn_);
    auto all = co_await store.load();
    if (!all) {
        co_return all.error();
    }
    auto out = std::move(all->second);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    co_return out;
}

awaitable<outcome<std::vector<bound_specialist>>> directory_admin::bound_specialists() {
    std::vector<bound_specialist> out;
    const auto slots = scan_slots(conn_);
    if (slots.empty()) {
        co_return fail(errc::unavailable, "no slot map from the Redis Cluster yet");
    }
    for (const auto slot : slots) {
        if (auto r = co_await bound_specialists_on(slot, out); !r) {
            co_return r.error();
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    co_return out;
}

awaitable<outcome<void>> directory_admin::bound_specialists_on(std::uint16_t slot,
                                                               std::vector<bound_specialist>& out) {
    std::string cursor = "0";
    do {
        auto page =
            co_await scan(conn_, std::move(cursor), keys::user_pattern(), "hash", 1000, slot);
        if (!page) {
            co_return page.error();
        }
        cursor = std::move(page->cursor);
        std::vector<std::string> ids;
        std::vector<std::vector<std::string>> reads;
        for (const auto& key : page->keys) {
            const auto id = keys::user_of_key(key);
            if (id.empty()) {
                continue;
            }
            ids.emplace_back(id);
            reads.push_back({"HMGET", key, "role", "last_seen"});
            reads.push_back({"EXISTS", keys::profile(id)});
        }
        auto rows = co_await call_all(conn_, std::move(reads));
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const auto& user = rows[2 * i];
            const auto& listed = rows[2 * i + 1];
            if (!user) {
                co_return user.error();
            }
            if (!listed) {
                co_return listed.error();
            }
            if (user->elements.size() == 2 && user->elements[0].str == "specialist") {
                out.push_back({ids[i], user->elements[1].is_string(), listed->integer == 1});
            }
        }
    } while (cursor != "0");
    co_return outcome<void>{};
}

}  // namespace confide::store

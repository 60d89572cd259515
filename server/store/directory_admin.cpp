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
    std::vector<std::string> k{keys::profile(p.id), keys::user(p.id), keys::directory(),
                               keys::directory_version()};
    std::vector<std::string> a{p.id, mode};
    for (auto& f : profile_fields(p)) {
        a.push_back(std::move(f));
    }
    auto res = co_await call_script(conn_, scripts::directory_put(), std::move(k), std::move(a));
    if (!res) {
        co_return res.error();
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
    std::string cursor = "0";
    do {
        auto page = co_await scan(conn_, std::move(cursor), keys::user_pattern(), "hash");
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
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    co_return out;
}

}  // namespace confide::store

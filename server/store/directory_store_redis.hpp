#pragma once

#include "routing/ports.hpp"
#include "store/db.hpp"

#include <memory>

namespace confide::store {

/// routing::directory_store on Redis: the entries (keys::profile, listed in keys::directory,
/// versioned by keys::directory_version), presence, and each specialist's first-reply times
/// (keys::first_replies). confide-admin writes the entries (store::directory_admin).
///
/// Thread safety: safe; the coroutines may run concurrently on any executor.
class redis_directory_store final : public routing::directory_store {
public:
    explicit redis_directory_store(db conn);

    awaitable<outcome<std::uint64_t>> version() override;
    awaitable<outcome<std::pair<std::uint64_t, std::vector<routing::specialist_profile>>>> load()
        override;
    awaitable<outcome<std::vector<routing::specialist_activity>>> activity(
        std::vector<std::string> user_ids, std::int64_t since_ms) override;

private:
    db conn_;
};

}  // namespace confide::store

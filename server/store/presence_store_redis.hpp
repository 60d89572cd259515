#pragma once

#include "routing/ports.hpp"
#include "store/db.hpp"

#include <chrono>
#include <memory>

namespace confide::store {

/// routing::presence_store on Redis: per-user live connections with expiry (so a crashed node's
/// users go offline), status and last-seen; changes published to the user's contacts.
///
/// Thread safety: safe.
class redis_presence_store final : public routing::presence_store {
public:
    /// `ttl`: how long a connection counts as live without a refresh.
    redis_presence_store(db conn, std::chrono::milliseconds ttl);

    awaitable<outcome<std::uint32_t>> connect(std::string user_id, std::string connection_id,
                                              std::int64_t now_ms) override;
    awaitable<outcome<void>> disconnect(std::string user_id, std::string connection_id,
                                        bool signed_out, std::int64_t now_ms) override;
    awaitable<outcome<void>> confirm_lost(std::string user_id, std::int64_t now_ms) override;
    awaitable<outcome<void>> set_status(std::string user_id, routing::presence_state state,
                                        std::int64_t now_ms) override;
    awaitable<outcome<void>> refresh(std::vector<std::pair<std::string, std::string>> connections,
                                     std::int64_t now_ms) override;
    awaitable<outcome<void>> sweep(std::int64_t now_ms) override;

private:
    /// On a cluster: the user leaves the global presence expiry (a step after the user's).
    awaitable<outcome<void>> forget_expiry(std::string user_id);

    db conn_;
    std::chrono::milliseconds ttl_;
};

}  // namespace confide::store

#pragma once
// Loading the store's Lua scripts into Redis.

#include "store/redis/connection.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace confide::store {

/// Whether the scripts are loaded on a connection's current Redis connection.
/// Thread safety: loaded() from any thread.
class scripts_status {
public:
    bool loaded() const noexcept { return loaded_.load(std::memory_order_acquire); }

private:
    friend std::shared_ptr<const scripts_status> load_scripts_on_connect(
        const std::shared_ptr<redis::connection>& conn);
    std::atomic<bool> loaded_{false};
    std::uint64_t epoch_ = 0;  // on the connection's strand: bumped by every (re)connection
};

/// Loads every script of store/scripts.hpp into Redis after each (re)connection of `conn`, so
/// that a restarted Redis does not first answer NOSCRIPT to every EVALSHA in flight (the
/// fallback to EVAL is correct, but costs a round trip each). A failed load is logged (the
/// fallback still works, but the status stays "not loaded": readiness reports it). Call before
/// conn->start(); holds `conn` weakly.
///
/// Thread safety: as redis::connection::on_connected.
std::shared_ptr<const scripts_status> load_scripts_on_connect(
    const std::shared_ptr<redis::connection>& conn);

}  // namespace confide::store

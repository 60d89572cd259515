#pragma once
// Loading the store's Lua scripts into Redis.

#include "store/redis/connection.hpp"

#include <memory>

namespace confide::store {

/// Loads every script of store/scripts.hpp into Redis after each (re)connection of `conn`, so
/// that a restarted Redis does not first answer NOSCRIPT to every EVALSHA in flight (the
/// fallback to EVAL is correct, but costs a round trip each). A failed load is logged (the
/// fallback still works). Call before conn->start(); holds `conn` weakly.
///
/// Thread safety: as redis::connection::on_connected.
void load_scripts_on_connect(const std::shared_ptr<redis::connection>& conn);

}  // namespace confide::store

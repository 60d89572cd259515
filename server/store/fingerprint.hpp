#pragma once
// What identifies a request whose client_msg_id makes it idempotent: a retry carries the same
// fingerprint; the same id with another one is CONFLICT.

#include <initializer_list>
#include <string>
#include <string_view>

namespace confide::store {

/// SHA-256 of `parts` (each preceded by its length, so no two lists collide), as 32 hex digits
/// (its first 128 bits). Computed by the server, never in Lua: Redis's thread is the scarce one.
std::string fingerprint(std::initializer_list<std::string_view> parts);

}  // namespace confide::store

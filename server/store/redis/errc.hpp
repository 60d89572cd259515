#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace confide::store::redis {

/// Failures of the Redis client. Every one of them means "the outcome of the command is unknown
/// or it did not run": callers answer UNAVAILABLE (retryable) and rely on idempotent retries.
enum class errc {
    not_connected = 1,  ///< no connection to Redis at the moment (reconnecting)
    disconnected,       ///< the connection dropped while the command was in flight
    timeout,            ///< no reply before the command's deadline (the connection is reset)
    server_error,       ///< Redis answered with an error reply (e.g. OOM, NOSCRIPT, READONLY)
    protocol_error,     ///< the reply did not have the expected shape
    stopped,            ///< the connection was stopped (shutdown)
};

const boost::system::error_category& redis_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), redis_category()};
}

}  // namespace confide::store::redis

template <>
struct boost::system::is_error_code_enum<confide::store::redis::errc> : std::true_type {};

#pragma once
// The project's error vocabulary: one enum shared by every layer and by the wire protocol.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

namespace confide {

/// Error conditions a request can end with. The values equal confide.v1.ErrorCode on the wire.
enum class errc : int {
    unauthenticated = 1,      ///< no valid authentication
    forbidden = 2,            ///< not this user's (also: does not exist, so ids cannot be probed)
    invalid_argument = 3,     ///< malformed or missing field
    too_large = 4,            ///< a field over its limit
    rate_limited = 5,         ///< too many requests; retry after a delay
    unavailable = 6,          ///< storage unreachable, slow or outcome unknown; retry with same ids
    conflict = 7,             ///< contradicts stored state (e.g. a reused client_msg_id)
    failed_precondition = 8,  ///< not allowed in the conversation's current state
    internal = 9,             ///< a bug on our side
    not_found = 10,           ///< what the request names does not exist (a public thing only)
};

/// The category of `errc`. Thread safety: safe.
const boost::system::error_category& confide_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), confide_category()};
}

/// Whether a request that failed with `e` may succeed when sent again unchanged.
constexpr bool is_retryable(errc e) noexcept {
    return e == errc::unavailable || e == errc::rate_limited;
}

/// A failed request: the code, a message safe to show to the user (never a body or a token) and,
/// for rate limits, when to retry.
struct failure {
    errc code = errc::internal;
    std::string message;
    std::uint32_t retry_after_ms = 0;
};

inline failure fail(errc code, std::string message, std::uint32_t retry_after_ms = 0) {
    return failure{code, std::move(message), retry_after_ms};
}

/// The result of a request-level operation: a value or a `failure`.
template <class T>
using outcome = boost::system::result<T, failure>;

/// Needed by boost::system::result<T, failure>::value() on the error path.
[[noreturn]] void throw_exception_from_error(const failure& f, const boost::source_location& loc);

}  // namespace confide

template <>
struct boost::system::is_error_code_enum<confide::errc> : std::true_type {};

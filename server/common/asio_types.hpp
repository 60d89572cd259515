#pragma once
// Asio vocabulary shared by every layer that runs coroutines.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <string_view>

namespace confide {

namespace asio = boost::asio;

template <class T = void>
using awaitable = asio::awaitable<T>;

using executor = asio::any_io_executor;

/// Completion token for expected errors: `auto [ec, n] = co_await op(..., use_nothrow);`
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// Completion handler for co_spawn that logs an escaping exception instead of losing it
/// (Boost 1.81's `detached` drops exceptions silently). `what` names the coroutine in the log.
struct log_exception {
    std::string_view what;
    void operator()(const std::exception_ptr& e) const noexcept;
};

}  // namespace confide

#pragma once

#include <boost/system/error_code.hpp>

namespace confide::net {

/// Whether `ec` is an ordinary end of a connection (cancelled, closed by either side, reset,
/// timed out): logged at debug level, never as an error. Thread safety: safe.
bool is_expected_end(const boost::system::error_code& ec) noexcept;

}  // namespace confide::net

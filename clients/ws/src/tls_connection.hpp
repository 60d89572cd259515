#pragma once
// wss:// connections, defined in connection_tls.cpp: connection::open hands them over here so
// that only that file compiles Beast over OpenSSL.

#include "confide/ws/connection.hpp"

namespace confide::ws::detail {

/// connection::open for options.tls != nullptr.
std::shared_ptr<connection> open_tls(const boost::asio::any_io_executor& executor,
                                     const connect_options& options, events& events,
                                     std::uint64_t id,
                                     std::optional<boost::asio::ip::address> source);

}  // namespace confide::ws::detail

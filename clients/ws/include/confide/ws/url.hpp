#pragma once
// ws:// URLs. No I/O.

#include <string>
#include <string_view>

namespace confide::ws {

/// Where a ws:// URL points.
struct endpoint {
    std::string host;    ///< a name or an IP address; IPv6 without brackets
    std::string port;    ///< "80" when the URL has none
    std::string target;  ///< path and query, at least "/"
};

/// Parses "ws://host[:port][/path][?query]" ("[::1]" for IPv6 literals). Throws
/// std::invalid_argument naming the problem for anything else, wss:// included (not supported
/// yet). Thread safety: safe.
endpoint parse_url(std::string_view url);

/// The Host header for `host` and `port`: IPv6 in brackets, ":port" unless it is 80.
/// Thread safety: safe.
std::string host_header(std::string_view host, std::string_view port);

}  // namespace confide::ws

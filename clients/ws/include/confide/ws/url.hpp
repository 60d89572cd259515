#pragma once
// ws:// and wss:// URLs. No I/O.

#include <string>
#include <string_view>

namespace confide::ws {

/// Where a ws:// or wss:// URL points.
struct endpoint {
    std::string host;    ///< a name or an IP address; IPv6 without brackets
    std::string port;    ///< "80" (ws) or "443" (wss) when the URL has none
    std::string target;  ///< path and query, at least "/"
    bool tls = false;    ///< wss://
};

/// Parses "ws://host[:port][/path][?query]" or the same with wss:// ("[::1]" for IPv6
/// literals). Throws std::invalid_argument naming the problem for anything else.
/// Thread safety: safe.
endpoint parse_url(std::string_view url);

/// The Host header for `host` and `port`: IPv6 in brackets, ":port" unless it is the scheme's
/// default (80, or 443 with `tls`). Thread safety: safe.
std::string host_header(std::string_view host, std::string_view port, bool tls = false);

}  // namespace confide::ws

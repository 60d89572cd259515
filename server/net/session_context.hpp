#pragma once
// What the connections of one listener share, and what the HTTP phase hands to the WebSocket
// phase. Plain types only.

#include "net/connection_registry.hpp"
#include "net/options.hpp"
#include "routing/connection_handler.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace confide::net {

/// What every connection of a listener shares. Immutable once built.
struct session_context {
    session_options options;
    std::shared_ptr<routing::connection_handler_factory> factory;
    std::shared_ptr<connection_registry> registry;
};

/// The HTTP upgrade request as read by the HTTP phase, in plain types. The Authorization header
/// is not in `fields`: the token travels in routing::connection_info only.
struct upgrade_request {
    unsigned version = 11;  ///< 11 = HTTP/1.1
    std::string target;
    std::vector<std::pair<std::string, std::string>> fields;  ///< name, value; in order
};

}  // namespace confide::net

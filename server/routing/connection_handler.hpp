#pragma once

#include "common/asio_types.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace confide::routing {

class outbound;

/// What the network layer knows about a new connection, handed to the chat domain.
struct connection_info {
    std::string connection_id;   ///< unique, appears in every log line of this connection
    std::string remote_address;  ///< "ip:port", for logs
    std::string bearer_token;    ///< from an `Authorization: Bearer` upgrade header, or empty
};

/// The chat domain's side of one client connection. The network layer creates one per accepted
/// WebSocket, feeds it every received frame in order and tells it when the connection ends.
///
/// Thread safety: every member is called on the connection's strand.
class connection_handler {
public:
    virtual ~connection_handler() = default;

    /// Handles one binary frame. The network layer awaits it before reading the next frame, so a
    /// connection's requests are handled one at a time, in order. Never throws.
    virtual awaitable<void> on_frame(std::string_view frame) = 0;

    /// A text frame arrived: refused (the protocol is binary protobuf).
    virtual void on_text_frame() = 0;

    /// The outbound queue shrank (a write completed).
    virtual void on_written() = 0;

    /// The connection is over (closed by either side or failed). Called exactly once; after it no
    /// other member is called. Never throws.
    virtual awaitable<void> on_closed() = 0;
};

/// Creates the handler of a new connection. `out` outlives the handler. Called on the
/// connection's strand; `strand` is that strand.
class connection_handler_factory {
public:
    virtual ~connection_handler_factory() = default;
    virtual std::shared_ptr<connection_handler> create(executor strand, outbound& out,
                                                       connection_info info) = 0;
};

}  // namespace confide::routing

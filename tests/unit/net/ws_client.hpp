#pragma once
// A small blocking WebSocket/HTTP client for the network layer's tests. Every call is bounded:
// it runs its own io_context with run_for(timeout) and closes the socket if the time runs out.
// Beast stays in ws_client.cpp.

#include "net/options.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confide::net::test {

using headers = std::vector<std::pair<std::string, std::string>>;

/// The outcome of read(): a message, the server's close frame, or a failure.
struct received {
    enum class kind { binary, text, closed, error } what = kind::error;
    std::string data;        ///< binary/text: the payload
    std::uint16_t code = 0;  ///< closed: the close code
    std::string reason;      ///< closed: the close reason
    std::string error;       ///< error: what happened (e.g. "timeout", "end of stream")
};

/// An HTTP response (or a failure to get one).
struct http_response {
    int status = 0;  ///< 0: no response (see error)
    std::string body;
    std::string error;
};

class ws_client {
public:
    explicit ws_client(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    ~ws_client();
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    /// TCP connect only.
    bool connect(const endpoint& server);

    /// The WebSocket handshake on a connected client: the HTTP status (101 on success).
    /// `response_body` receives the body of a refusal.
    int handshake(std::string_view target = "/", const headers& extra = {},
                  std::string* response_body = nullptr);

    /// connect() + handshake(): true when the WebSocket is open.
    bool open(const endpoint& server, std::string_view target = "/", const headers& extra = {});

    bool write_binary(std::string_view data);
    bool write_text(std::string_view data);

    /// The next message, or the server's close (after which the connection is over).
    received read();

    /// Sends a close frame with `code` and waits for the closing handshake to complete.
    bool close(std::uint16_t code = 1000);

    /// Raw TCP: writes `bytes` as they are (e.g. half an HTTP request).
    bool write_raw(std::string_view bytes);

    /// Raw TCP: reads until the server closes; true when it did within the timeout. Bytes read
    /// are appended to `*got` if given.
    bool wait_for_eof(std::string* got = nullptr);

    /// Closes the TCP connection without a closing handshake.
    void drop();

    /// One HTTP/1.1 request on a fresh connection.
    static http_response http_get(const endpoint& server, std::string_view target,
                                  const headers& extra = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace confide::net::test

#pragma once
// Blocking clients for the network layer's tests, every call bounded by the timeout: a WebSocket
// client (confide_ws's connection on an io_context that runs only inside its calls, so that in
// between it reads nothing, like a peer that stopped reading) and a raw TCP probe for the HTTP
// phase. No Beast here.

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

/// Raw TCP: bytes as they are, for what is not (or not yet) a WebSocket.
class tcp_probe {
public:
    explicit tcp_probe(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    ~tcp_probe();
    tcp_probe(const tcp_probe&) = delete;
    tcp_probe& operator=(const tcp_probe&) = delete;

    bool connect(const endpoint& server);
    /// Writes `bytes` as they are (e.g. half an HTTP request).
    bool write_raw(std::string_view bytes);
    /// Reads until the server closes; true when it did within the timeout. Bytes read are
    /// appended to `*got` if given.
    bool wait_for_eof(std::string* got = nullptr);

    /// One HTTP/1.1 GET on a fresh connection, with "Connection: close".
    static http_response http_get(const endpoint& server, std::string_view target,
                                  const headers& extra = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

class ws_client {
public:
    explicit ws_client(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    ~ws_client();
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    /// Connects and does the WebSocket handshake: the HTTP status (101: open; 0: no answer).
    /// `response_body` receives the body of a refusal.
    int handshake(const endpoint& server, std::string_view target = "/", const headers& extra = {},
                  std::string* response_body = nullptr);
    /// handshake() == 101.
    bool open(const endpoint& server, std::string_view target = "/", const headers& extra = {});

    bool write_binary(std::string_view data);
    bool write_text(std::string_view data);

    /// The next message, or how the connection ended (the server's close, or a failure).
    received read();

    /// Sends a close frame with `code` and waits for the closing handshake to complete.
    bool close(std::uint16_t code = 1000);

    /// Reads on until the connection ends; true when it did within the timeout.
    bool wait_closed();

    /// Closes the TCP connection without a closing handshake.
    void drop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace confide::net::test

#pragma once
// A WebSocket client for integration tests: speaks confide.v1 frames to a real server over a
// real socket. Every wait is bounded by a timeout; nothing sleeps.

#include "confide/v1/confide.pb.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace confide::test {

namespace v1 = ::confide::v1;
using namespace std::chrono_literals;

/// How the server closed the connection.
struct close_info {
    std::uint16_t code = 0;
    std::string reason;
};

class ws_client {
public:
    struct options {
        std::string host = "127.0.0.1";
        std::uint16_t port = 0;
        std::string target = "/";
        std::string bearer;            ///< sent as "Authorization: Bearer" when non-empty
        std::string origin;            ///< sent as "Origin" when non-empty
        bool start_reading = true;     ///< false: read nothing until resume_reading()
        int receive_buffer_bytes = 0;  ///< SO_RCVBUF when non-zero (small: a slow reader)
    };

    /// Connects and completes the WebSocket handshake; throws std::runtime_error on failure.
    explicit ws_client(const options& opts);
    ~ws_client();

    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    /// Sends a frame. A request id of 0 is replaced by the next one; returns the id used.
    std::uint64_t send(v1::Frame frame);
    /// Sends raw bytes as a binary (or text) message.
    void send_raw(std::string bytes, bool binary = true);

    /// The next frame received (in order), or nullopt after `timeout` or when closed.
    std::optional<v1::Frame> next(std::chrono::milliseconds timeout = 5s);

    /// The first frame (received or still to come) that satisfies `pred`; frames skipped stay
    /// queued for later calls, in order.
    std::optional<v1::Frame> wait_for(const std::function<bool(const v1::Frame&)>& pred,
                                      std::chrono::milliseconds timeout = 5s);

    /// Sends `req` and waits for the reply with its request id.
    std::optional<v1::Frame> request(v1::Frame req, std::chrono::milliseconds timeout = 5s);

    /// Authenticates and, when `sync` is set, starts the event stream; throws on failure.
    v1::AuthenticateReply login(const std::string& token, const std::string& device,
                                bool sync = true, const std::string& after_cursor = {});

    /// Waits until the server closes the connection.
    std::optional<close_info> wait_closed(std::chrono::milliseconds timeout = 5s);

    /// Starts a clean close from our side.
    void close();

    /// Drops the TCP connection without a close frame.
    void abort();

    /// Starts reading (for a client created with start_reading = false).
    void resume_reading();

    /// Frames received and not yet consumed by next()/wait_for().
    std::size_t pending() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Shortcuts to build requests.
v1::Frame send_message(const std::string& conversation, const std::string& msg_id,
                       const std::string& body);
v1::Frame start_inquiry(const std::string& specialist, const std::string& msg_id,
                        const std::string& body, bool free_consultation = false);
v1::Frame ack(const std::string& cursor);
v1::Frame mark_read(const std::string& conversation, std::uint64_t seq);
v1::Frame update(const std::string& conversation, v1::ConversationAction action);
v1::Frame history(const std::string& conversation, std::uint64_t before = 0,
                  std::uint32_t limit = 0);
v1::Frame list_conversations(std::uint32_t limit = 0);

/// Predicates for wait_for.
std::function<bool(const v1::Frame&)> is_message_event(const std::string& body = {});
std::function<bool(const v1::Frame&)> is_receipt(v1::ReceiptKind kind, std::uint64_t seq = 0);
std::function<bool(const v1::Frame&)> is_presence(v1::PresenceState state,
                                                  std::optional<bool> lost = std::nullopt);

}  // namespace confide::test

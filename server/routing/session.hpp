#pragma once

#include "auth/identity.hpp"
#include "common/asio_types.hpp"
#include "protocol/cursor.hpp"
#include "protocol/limits.hpp"
#include "routing/connection_handler.hpp"
#include "routing/outbound.hpp"
#include "routing/ports.hpp"
#include "routing/rate_limiter.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace confide::auth {
class token_verifier;
}

namespace confide::routing {

class presence_tracker;

/// Limits and timings of a client session.
struct session_config {
    protocol::limits limits;
    std::chrono::milliseconds auth_timeout{10'000};
    /// Clients ping at least this often; 3 intervals of silence close the connection (4005).
    std::chrono::milliseconds heartbeat_interval{15'000};
    std::uint32_t max_connections_per_user = 10;
    double send_rate = 10;  ///< messages per second per user (sustained)
    double send_burst = 30;
    double typing_rate = 2;  ///< typing notices per second per connection
    double typing_burst = 5;
    double request_rate = 50;  ///< requests of any kind per second per connection
    double request_burst = 200;
    std::uint32_t event_batch = 100;  ///< events read from storage per round trip
    /// The network layer's outbound bound; the event pump pauses at 1/4 of it and resumes
    /// at 1/8, so catch-up never grows the queue past its bound.
    std::size_t max_outbound_bytes = 4 * 1024 * 1024;
    /// A client that reads nothing for this long while events wait is closed with 4003.
    std::chrono::milliseconds stalled_reader_timeout{30'000};
};

/// The node-wide services every session uses. All of them outlive every session.
struct services {
    chat_store& chat;
    presence_store& presence;
    notice_bus& bus;
    const auth::token_verifier& verifier;
    presence_tracker& tracker;
    user_rate_limits& send_limits;
    session_config config;
};

/// One client connection, as the chat domain sees it: authentication, requests, and the ordered
/// stream of the user's events (catch-up from the device's cursor, then live), acks and receipts.
///
/// Thread safety: every member runs on the connection's strand (notices from the bus are posted
/// there).
class session final : public connection_handler,
                      public notice_listener,
                      public std::enable_shared_from_this<session> {
public:
    session(executor strand, services& svc, outbound& out, connection_info info);

    /// Arms the authentication deadline. Call once, right after construction.
    void start();

    awaitable<void> on_frame(std::string_view frame) override;
    void on_text_frame() override;
    void on_written() override;
    awaitable<void> on_closed() override;

    void on_notice(std::shared_ptr<const notice> n) override;
    void on_bus_reset() override;

private:
    using clock = std::chrono::steady_clock;

    /// A message event pushed to this connection and not acked yet: acking it makes its sender
    /// see "delivered".
    struct unacked {
        protocol::cursor_position position;
        std::string conversation_id;
        std::uint64_t seq;
    };

    // Requests. Each sends exactly one reply (or error) for `rid`. They take the request by
    // reference: on_frame awaits them while the frame is alive.
    awaitable<void> dispatch(const v1::Frame& frame);
    awaitable<void> authenticate(std::uint64_t rid, const v1::AuthenticateRequest& req);
    awaitable<void> sync(std::uint64_t rid, const v1::SyncRequest& req);
    awaitable<void> ack(std::uint64_t rid, const v1::AckRequest& req);
    awaitable<void> start_inquiry(std::uint64_t rid, const v1::StartInquiryRequest& req);
    awaitable<void> send_message(std::uint64_t rid, const v1::SendMessageRequest& req);
    awaitable<void> mark_read(std::uint64_t rid, const v1::MarkReadRequest& req);
    awaitable<void> typing(std::uint64_t rid, const v1::TypingRequest& req);
    awaitable<void> set_presence(std::uint64_t rid, const v1::SetPresenceRequest& req);
    awaitable<void> list_conversations(std::uint64_t rid, const v1::ListConversationsRequest& req);
    awaitable<void> get_history(std::uint64_t rid, const v1::GetHistoryRequest& req);
    awaitable<void> update_conversation(std::uint64_t rid,
                                        const v1::UpdateConversationRequest& req);
    awaitable<void> sign_out(std::uint64_t rid);

    void reply(v1::Frame& frame, std::uint64_t rid);
    void reply_ok(std::uint64_t rid);
    void reply_error(std::uint64_t rid, const failure& f);
    void reply_sent(std::uint64_t rid, const send_result& r, const std::string& client_msg_id);
    /// Sends a GoAway push and closes the connection with `code`.
    void go_away(std::uint16_t code, const std::string& reason);
    /// Whether the user may send one more message now; replies RATE_LIMITED if not.
    bool admit_send(std::uint64_t rid);
    std::uint32_t page_size(std::uint32_t requested) const noexcept;

    // The event stream.
    void handle_notice(const std::shared_ptr<const notice>& n);
    void push_event(const notice& n);
    /// Pushes events in order while the outbound queue has room; false if some did not fit.
    bool push_batch(const std::vector<std::shared_ptr<const notice>>& events);
    void wake_pump();
    static awaitable<void> pump(std::shared_ptr<session> self);
    awaitable<bool> wait_for_room();

    // Deadlines: authentication, token expiry, heartbeat.
    void arm_deadline();
    void on_deadline();

    executor strand_;
    services& svc_;
    outbound& out_;
    connection_info info_;
    std::string log_prefix_;  // "conn=<id> user=<id>", for every log line

    bool closed_ = false;
    bool authenticated_ = false;
    bool signed_out_ = false;
    auth::identity identity_;
    std::string device_id_;

    clock::time_point created_;
    clock::time_point last_received_;
    clock::time_point token_expiry_;
    asio::steady_timer deadline_;

    token_bucket request_bucket_;
    token_bucket typing_bucket_;

    // Event stream state. `cursor_` is the position of the last event sent; `last_n_` its
    // gapless number (0: unknown, the next notice makes the pump read from storage).
    bool live_ = false;
    bool syncing_ = false;
    bool pumping_ = false;
    bool wake_pending_ = false;
    std::uint64_t pump_generation_ = 0;
    std::string cursor_;
    std::uint64_t last_n_ = 0;
    asio::steady_timer room_timer_;
    bool waiting_for_room_ = false;

    // Oldest first, from unacked_head_ on. A vector, not a deque: an idle connection's empty one
    // allocates nothing (libstdc++'s deque allocates ~570 bytes when constructed).
    std::vector<unacked> unacked_;
    std::size_t unacked_head_ = 0;
    /// Delivered marks whose write failed, retried with the next ack.
    std::map<std::string, std::uint64_t> pending_marks_;
};

/// Creates a routing::session for every new connection.
class session_factory final : public connection_handler_factory {
public:
    explicit session_factory(services& svc) : svc_(svc) {}
    std::shared_ptr<connection_handler> create(executor strand, outbound& out,
                                               connection_info info) override;

private:
    services& svc_;
};

}  // namespace confide::routing

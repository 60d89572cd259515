#pragma once
// What the parts of one client connection share (routing::session, request_dispatcher,
// stream_runner): who it is, and the way back to the client.

#include "auth/identity.hpp"
#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "routing/connection_handler.hpp"
#include "routing/outbound.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace confide::v1 {
class Frame;
}

namespace confide::routing {

/// One client connection's identity and replies. Once closed, nothing is sent: the network
/// layer's `outbound` may be gone by then.
///
/// Thread safety: none; used on the connection's strand only.
class connection {
public:
    connection(executor strand, outbound& out, connection_info info);

    const executor& strand() const noexcept { return strand_; }
    const connection_info& info() const noexcept { return info_; }
    /// "conn=<id> user=<id>", at the head of every log line of this connection.
    const std::string& log_prefix() const noexcept { return log_prefix_; }

    // ---- who
    bool authenticated() const noexcept { return authenticated_; }
    /// Valid once authenticated.
    const auth::identity& identity() const noexcept { return identity_; }
    const std::string& user_id() const noexcept { return identity_.user_id; }
    const std::string& device_id() const noexcept { return device_id_; }
    void set_authenticated(auth::identity id, std::string device_id);

    bool signed_out() const noexcept { return signed_out_; }
    void set_signed_out() noexcept { signed_out_ = true; }

    // ---- the way back
    bool closed() const noexcept { return closed_; }
    /// The connection ended (routing::connection_handler::on_closed).
    void set_closed() noexcept;

    /// Sends `frame` as the reply to request `rid`.
    void reply(v1::Frame& frame, std::uint64_t rid);
    void reply_ok(std::uint64_t rid);
    /// Sends an ErrorReply for `rid` (0: not tied to a request). Internal errors are logged.
    void reply_error(std::uint64_t rid, const failure& f);
    /// Sends an encoded frame (a push).
    void push(std::shared_ptr<const std::string> frame);
    /// Sends a GoAway push and closes the connection with `code`.
    void go_away(std::uint16_t code, const std::string& reason);
    /// Closes the connection with `code` after what is queued, without a GoAway.
    void close(std::uint16_t code, std::string reason);
    /// Bytes queued for the client; 0 once closed.
    std::size_t queued_bytes() const noexcept;

private:
    executor strand_;
    outbound& out_;
    connection_info info_;
    std::string log_prefix_;
    bool closed_ = false;
    bool authenticated_ = false;
    bool signed_out_ = false;
    auth::identity identity_;
    std::string device_id_;
};

}  // namespace confide::routing

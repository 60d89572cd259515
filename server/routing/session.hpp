#pragma once
// One client connection as the chat domain sees it, from the first frame to the close.

#include "common/asio_types.hpp"
#include "routing/connection.hpp"
#include "routing/connection_handler.hpp"
#include "routing/deadlines.hpp"
#include "routing/ports.hpp"
#include "routing/rate_limiter.hpp"
#include "routing/requests.hpp"
#include "routing/services.hpp"
#include "routing/stream_runner.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string_view>

namespace confide::routing {

/// The life of one client connection: every frame is decoded, validated and rate-limited here;
/// the first must authenticate (routing::sign_in), the rest go to the request_dispatcher; the
/// user's notices go to the stream_runner; the deadlines (authentication, token expiry,
/// heartbeat) close it; and at the end the subscription and presence are undone.
///
/// Thread safety: every member runs on the connection's strand (notices from the bus, which
/// arrive on any thread, are posted there).
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
    awaitable<void> authenticate(std::uint64_t rid, const v1::AuthenticateRequest& req);
    void arm_deadline();
    void on_deadline();
    void on_account_erased();

    services& svc_;
    connection conn_;
    deadlines deadlines_;
    asio::steady_timer deadline_timer_;
    token_bucket request_bucket_;
    stream_runner stream_;
    request_dispatcher requests_;
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

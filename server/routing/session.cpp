#include "routing/session.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "protocol/codec.hpp"
#include "protocol/validate.hpp"
#include "routing/connection_audit.hpp"
#include "routing/presence_tracker.hpp"
#include "routing/sign_in.hpp"

#include <boost/asio/post.hpp>

namespace confide::routing {

session::session(executor strand, services& svc, outbound& out, connection_info info)
    : svc_(svc),
      conn_(std::move(strand), out, std::move(info)),
      deadlines_(deadlines::clock::now(), svc.config.auth_timeout, svc.config.heartbeat_interval,
                 svc.config.idle_logoff),
      deadline_timer_(conn_.strand()),
      request_bucket_(svc.config.request_rate, svc.config.request_burst,
                      std::chrono::steady_clock::now()),
      stream_(conn_, svc.chat, svc.config.stream),
      requests_(svc, conn_, stream_, std::chrono::steady_clock::now()) {}

void session::start() {
    arm_deadline();
}

// ---------------------------------------------------------------------------------------------
// Frames in

awaitable<void> session::on_frame(std::string_view bytes) {
    if (conn_.closed()) {
        co_return;
    }
    const auto now = std::chrono::steady_clock::now();
    deadlines_.received(now);
    auto frame = protocol::decode(bytes);
    if (!frame) {
        conn_.reply_error(protocol::peek_request_id(bytes), frame.error());
        co_return;
    }
    const std::uint64_t rid = frame->request_id();
    if (auto ok = protocol::validate_request(*frame, svc_.config.limits); !ok) {
        conn_.reply_error(rid, ok.error());
        co_return;
    }
    if (auto wait = request_bucket_.take(now); wait.count() > 0) {
        conn_.reply_error(rid, fail(errc::rate_limited, "too many requests",
                                    static_cast<std::uint32_t>(wait.count())));
        co_return;
    }
    const bool authenticate_request = frame->kind_case() == v1::Frame::kAuthenticate;
    if (!conn_.authenticated() && !authenticate_request) {
        conn_.reply_error(rid, fail(errc::unauthenticated, "authenticate first"));
        conn_.go_away(close_code::unauthenticated, "authenticate first");
        co_return;
    }
    if (authenticate_request || is_user_activity(*frame)) {
        deadlines_.active(now);
    }
    try {
        if (!conn_.authenticated()) {
            co_await authenticate(rid, frame->authenticate());
        } else {
            co_await requests_.dispatch(*frame);
        }
    } catch (const std::exception& e) {
        // A bug, not the client's fault: answer, log, and keep the connection.
        log::error("{} request failed: {}", conn_.log_prefix(), e.what());
        conn_.reply_error(rid, fail(errc::internal, "internal error"));
    }
}

void session::on_text_frame() {
    if (conn_.closed()) {
        return;
    }
    deadlines_.received(std::chrono::steady_clock::now());
    conn_.reply_error(0,
                      fail(errc::invalid_argument,
                           "text frames are not accepted: send binary confide.v1.Frame messages"));
}

awaitable<void> session::authenticate(std::uint64_t rid, const v1::AuthenticateRequest& req) {
    auto token_expiry = co_await sign_in(svc_, conn_, shared_from_this(), rid, req);
    if (!token_expiry) {
        co_return;
    }
    deadlines_.authenticated(*token_expiry);
    arm_deadline();
    stream_.start(weak_from_this());
}

// ---------------------------------------------------------------------------------------------
// Notices and the outbound queue: the event stream's

void session::on_notice(std::shared_ptr<const notice> n) {
    if (std::holds_alternative<account_erased>(n->what)) {
        asio::post(conn_.strand(), [self = shared_from_this()] { self->on_account_erased(); });
        return;
    }
    asio::post(conn_.strand(),
               [self = shared_from_this(), n = std::move(n)] { self->stream_.on_notice(n); });
}

void session::on_bus_reset() {
    asio::post(conn_.strand(), [self = shared_from_this()] { self->stream_.on_bus_reset(); });
}

void session::on_written() {
    stream_.on_written();
}

// ---------------------------------------------------------------------------------------------
// Deadlines and the end

void session::arm_deadline() {
    if (conn_.closed()) {
        return;
    }
    deadline_timer_.expires_at(deadlines_.next());
    deadline_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) {
            self->on_deadline();
        }
    });
}

void session::on_deadline() {
    if (conn_.closed()) {
        return;
    }
    if (const auto due = deadlines_.due(deadlines::clock::now())) {
        log::info("{} {}", conn_.log_prefix(), due->log);
        if (due->close_code == close_code::idle_logoff) {
            // The user is signed out (contacts see them offline at once, not "connection lost").
            conn_.set_signed_out();
            const auto idle =
                std::chrono::duration_cast<std::chrono::seconds>(svc_.config.idle_logoff);
            svc_.audit.record(audit_event_of(conn_, audit_action::logoff, {},
                                             "idle for " + std::to_string(idle.count()) + " s"));
        }
        conn_.go_away(due->close_code, std::string(due->reason));
    } else {
        arm_deadline();
    }
}

void session::on_account_erased() {
    if (conn_.closed()) {
        return;
    }
    log::info("{} account erased: closing", conn_.log_prefix());
    // Signed out, so that the client does not reconnect by itself (close code 1000).
    conn_.set_signed_out();
    conn_.go_away(close_code::normal, "account erased");
}

awaitable<void> session::on_closed() {
    if (conn_.closed()) {
        co_return;
    }
    conn_.set_closed();
    stream_.close();
    deadline_timer_.cancel();
    if (!conn_.authenticated()) {
        co_return;
    }
    const std::string& user = conn_.user_id();
    const std::string& conn_id = conn_.info().connection_id;
    svc_.bus.unsubscribe(user, this);
    svc_.tracker.connection_closed(user, conn_id, conn_.signed_out());
    auto r = co_await svc_.presence.disconnect(user, conn_id, conn_.signed_out(), now_ms());
    if (!r) {
        // The entry expires by itself; the sweeper then reports the user as lost.
        log::warn("{} presence not updated on close: {}", conn_.log_prefix(), r.error().message);
    }
    log::info("{} closed", conn_.log_prefix());
}

std::shared_ptr<connection_handler> session_factory::create(executor strand, outbound& out,
                                                            connection_info info) {
    auto s = std::make_shared<session>(std::move(strand), svc_, out, std::move(info));
    s->start();
    return s;
}

}  // namespace confide::routing

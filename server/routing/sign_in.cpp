#include "routing/sign_in.hpp"

#include "auth/token_verifier.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "routing/connection_audit.hpp"
#include "routing/presence_tracker.hpp"
#include "routing/routing_metrics.hpp"
#include "routing/wire.hpp"

#include <algorithm>

namespace confide::routing {
namespace {

void reply_authenticated(const services& svc, connection& conn, std::uint64_t rid) {
    const auto& id = conn.identity();
    v1::Frame f;
    auto* a = f.mutable_authenticated();
    a->set_user_id(id.user_id);
    a->set_role(to_wire(id.user_role));
    a->set_expires_at_ms(id.expires_at_ms);
    a->set_connection_id(conn.info().connection_id);
    a->set_server_time_ms(now_ms());
    auto* l = a->mutable_limits();
    const auto& cfg = svc.config;
    l->set_max_frame_bytes(static_cast<std::uint32_t>(cfg.limits.max_frame_bytes));
    l->set_max_body_bytes(static_cast<std::uint32_t>(cfg.limits.max_body_bytes));
    l->set_heartbeat_interval_ms(static_cast<std::uint32_t>(cfg.heartbeat_interval.count()));
    l->set_send_rate_per_second(static_cast<std::uint32_t>(cfg.send_rate));
    l->set_send_burst(static_cast<std::uint32_t>(cfg.send_burst));
    l->set_idle_logoff_ms(static_cast<std::uint32_t>(cfg.idle_logoff.count()));
    // Whole days for people to read, rounded up (a limit under a day is never shown as none).
    constexpr std::int64_t day_s = 24 * 3600;
    l->set_retention_days(static_cast<std::uint32_t>((cfg.retention.count() + day_s - 1) / day_s));
    l->set_retention_s(static_cast<std::uint64_t>(cfg.retention.count()));
    if (id.user_role == auth::role::client) {
        to_wire(cfg.safety_notice, *a->mutable_safety_notice());
    }
    conn.reply(f, rid);
}

}  // namespace

awaitable<std::optional<std::chrono::steady_clock::time_point>> sign_in(
    services& svc, connection& conn, std::shared_ptr<notice_listener> listener, std::uint64_t rid,
    const v1::AuthenticateRequest& req) {
    // Every refusal is audited, with the user once the token proved who it is.
    auto refused = [&](std::string user, std::string reason) {
        auto e = audit_event_of(conn, audit_action::sign_in_failed, {}, std::move(reason));
        e.user_id = std::move(user);
        e.device_id = req.device_id();
        svc.audit.record(std::move(e));
    };
    const std::string& token = req.token().empty() ? conn.info().bearer_token : req.token();
    if (token.empty()) {
        refused({}, "a token is required");
        conn.reply_error(rid, fail(errc::unauthenticated, "a token is required"));
        stats::authentication_refusals.inc();
        conn.go_away(close_code::unauthenticated, "a token is required");
        co_return std::nullopt;
    }
    auto id = svc.verifier.verify(token, now_ms());
    if (!id) {
        log::info("{} authentication refused: {}", conn.log_prefix(), id.error().message);
        refused({}, id.error().message);
        conn.reply_error(rid, id.error());
        stats::authentication_refusals.inc();
        conn.go_away(close_code::unauthenticated, id.error().message);
        co_return std::nullopt;
    }
    const std::string user = id->user_id;
    const std::string& conn_id = conn.info().connection_id;
    auto bound = co_await svc.chat.bind_role(user, id->user_role);
    if (conn.closed()) {
        co_return std::nullopt;
    }
    if (!bound) {
        refused(user, bound.error().message);
        conn.reply_error(rid, bound.error());
        if (bound.error().code == errc::unauthenticated) {
            stats::authentication_refusals.inc();
            conn.go_away(close_code::unauthenticated, bound.error().message);
        }
        co_return std::nullopt;
    }
    auto count = co_await svc.presence.connect(user, conn_id, now_ms());
    if (conn.closed()) {
        if (count) {
            co_await svc.presence.disconnect(user, conn_id, false, now_ms());
        }
        co_return std::nullopt;
    }
    if (!count) {
        refused(user, count.error().message);
        conn.reply_error(rid, count.error());
        co_return std::nullopt;
    }
    if (*count > svc.config.max_connections_per_user) {
        co_await svc.presence.disconnect(user, conn_id, false, now_ms());
        const std::string why = "too many connections for this user (at most " +
                                std::to_string(svc.config.max_connections_per_user) + ")";
        refused(user, why);
        conn.reply_error(rid, fail(errc::failed_precondition, why));
        stats::authentication_refusals.inc();
        conn.go_away(close_code::too_many_connections, why);
        co_return std::nullopt;
    }
    // Subscribed before anything is read from the stream: every event stored from now on is
    // either in what sync reads or announced by a notice.
    const notice_listener* const subscriber = listener.get();
    auto sub = co_await svc.bus.subscribe(user, std::move(listener));
    if (!sub || conn.closed()) {
        svc.bus.unsubscribe(user, subscriber);
        co_await svc.presence.disconnect(user, conn_id, false, now_ms());
        if (!sub) {
            refused(user, sub.error().message);
            conn.reply_error(rid, sub.error());
        }
        co_return std::nullopt;
    }
    conn.set_authenticated(std::move(*id), req.device_id());
    svc.tracker.connection_opened(conn.user_id(), conn_id);

    const std::int64_t valid_ms =
        conn.identity().expires_at_ms +
        std::chrono::duration_cast<std::chrono::milliseconds>(svc.verifier.config().leeway)
            .count() -
        now_ms();
    const auto expiry = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(std::max<std::int64_t>(valid_ms, 0));
    log::info("{} authenticated as {} device={} from {}", conn.log_prefix(),
              auth::to_string(conn.identity().user_role), conn.device_id(),
              conn.info().remote_address);
    svc.audit.record(audit_event_of(conn, audit_action::sign_in, {},
                                    std::string(auth::to_string(conn.identity().user_role))));
    reply_authenticated(svc, conn, rid);
    co_return expiry;
}

}  // namespace confide::routing

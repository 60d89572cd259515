#include "app/chat_node.hpp"

#include "auth/token_verifier.hpp"
#include "common/log.hpp"
#include "routing/presence_tracker.hpp"
#include "routing/rate_limiter.hpp"
#include "routing/session.hpp"
#include "store/chat_store_redis.hpp"
#include "store/notice_bus_redis.hpp"
#include "store/presence_store_redis.hpp"
#include "store/redis/connection.hpp"
#include "store/redis_check.hpp"
#include "store/scripts.hpp"

#include <boost/asio/steady_timer.hpp>

#include <stdexcept>

namespace confide::app {
namespace {

// How long start-up waits for Redis to answer before giving up with a clear message.
constexpr auto startup_timeout = std::chrono::seconds(15);

store::redis::config redis_config(const config& cfg) {
    store::redis::config r;
    r.host = cfg.redis_host;
    r.port = cfg.redis_port;
    r.unix_socket = cfg.redis_unix_socket;
    r.password = cfg.redis_password;
    r.connect_timeout = cfg.redis_timeout;
    r.command_timeout = cfg.redis_timeout;
    return r;
}

std::string redis_address(const config& cfg) {
    return cfg.redis_unix_socket.empty() ? cfg.redis_host + ":" + std::to_string(cfg.redis_port)
                                         : "unix:" + cfg.redis_unix_socket;
}

auth::verifier_config verifier_config_of(const config& cfg) {
    auth::verifier_config v;
    v.keys = auth::key_set::from_specs(cfg.token_keys);
    v.issuer = cfg.token_issuer;
    v.audience = cfg.token_audience;
    v.leeway = cfg.token_leeway;
    return v;
}

routing::session_config session_config_of(const config& cfg) {
    routing::session_config s;
    s.limits.max_frame_bytes = cfg.max_frame_bytes;
    s.limits.max_body_bytes = cfg.max_body_bytes;
    s.auth_timeout = cfg.auth_timeout;
    s.heartbeat_interval = cfg.heartbeat_interval;
    s.max_connections_per_user = cfg.max_connections_per_user;
    s.send_rate = cfg.send_rate;
    s.send_burst = cfg.send_burst;
    s.typing_rate = cfg.typing_rate;
    s.request_rate = cfg.request_rate;
    s.request_burst = cfg.request_burst;
    s.max_outbound_bytes = cfg.max_outbound_bytes;
    s.stalled_reader_timeout = cfg.stalled_reader_timeout;
    return s;
}

}  // namespace

struct chat_node::parts {
    parts(executor ex, const config& c)
        : cfg(c),
          redis(store::redis::connection::create(ex, redis_config(c))),
          bus(store::redis_notice_bus::create(ex, redis_config(c), redis)),
          chat(redis, store::chat_store_config{c.inbox_max_events, c.sent_record_ttl}),
          presence(redis, c.presence_ttl),
          tracker(routing::presence_tracker::create(
              ex, presence, routing::presence_tracker::options{c.presence_grace, c.presence_ttl})),
          send_limits(c.send_rate, c.send_burst),
          verifier(verifier_config_of(c)),
          services{chat, presence, *bus, verifier, *tracker, send_limits, session_config_of(c)},
          factory(std::make_shared<routing::session_factory>(services)) {}

    config cfg;
    std::shared_ptr<store::redis::connection> redis;
    std::shared_ptr<store::redis_notice_bus> bus;
    store::redis_chat_store chat;
    store::redis_presence_store presence;
    std::shared_ptr<routing::presence_tracker> tracker;
    routing::user_rate_limits send_limits;
    auth::token_verifier verifier;
    routing::services services;
    std::shared_ptr<routing::session_factory> factory;
};

chat_node::chat_node(executor ex, const config& cfg)
    : parts_(std::make_unique<parts>(std::move(ex), cfg)) {}

chat_node::~chat_node() = default;

void chat_node::start() {
    // Loaded on every (re)connection, so that a restarted Redis does not first answer NOSCRIPT to
    // every in-flight EVALSHA (the fallback to EVAL is correct, but costs a round trip each).
    std::weak_ptr<store::redis::connection> weak = parts_->redis;
    parts_->redis->on_connected([weak] {
        auto conn = weak.lock();
        if (!conn) {
            return;
        }
        for (const auto* s : store::scripts::all()) {
            conn->async_exec({"SCRIPT", "LOAD", s->body()}, [](boost::system::error_code ec,
                                                               const store::redis::reply& r) {
                if (ec) {
                    log::warn("cannot load a script into Redis: {} {}", ec.message(), r.str);
                }
            });
        }
    });
    parts_->redis->start();
    parts_->bus->start();
}

awaitable<void> chat_node::check_storage() {
    const auto& cfg = parts_->cfg;
    auto ex = co_await asio::this_coro::executor;
    const auto give_up = std::chrono::steady_clock::now() + startup_timeout;
    outcome<store::persistence_report> report = fail(errc::unavailable, "not checked");
    while (true) {
        report = co_await store::check_persistence(*parts_->redis);
        if (report || std::chrono::steady_clock::now() >= give_up) {
            break;
        }
        // Redis may still be starting (or loading its data): try again shortly.
        asio::steady_timer t(ex, std::chrono::milliseconds(200));
        co_await t.async_wait(use_nothrow);
    }
    if (!report) {
        throw std::runtime_error("cannot use Redis at " + redis_address(cfg) + ": " +
                                 report.error().message);
    }
    log::info("redis {} at {}: appendonly {}, appendfsync {}, maxmemory-policy {}", report->version,
              redis_address(cfg), report->appendonly, report->appendfsync,
              report->maxmemory_policy);
    if (!report->problem.empty()) {
        if (!cfg.allow_unsafe_redis) {
            throw std::runtime_error(report->problem +
                                     " (or start with --allow-unsafe-redis, for benchmarks only)");
        }
        log::warn("{} -- accepted because of --allow-unsafe-redis", report->problem);
    }
    if (!report->warning.empty()) {
        log::warn("{}", report->warning);
    }
    parts_->tracker->start();
}

void chat_node::stop() {
    parts_->tracker->stop();
    parts_->bus->stop();
    parts_->redis->stop();
}

std::shared_ptr<routing::connection_handler_factory> chat_node::factory() const {
    return parts_->factory;
}

}  // namespace confide::app

#include "app/chat_node.hpp"

#include "auth/token_verifier.hpp"
#include "common/log.hpp"
#include "metrics/metrics.hpp"
#include "routing/presence_tracker.hpp"
#include "routing/rate_limiter.hpp"
#include "routing/services.hpp"
#include "routing/session.hpp"
#include "routing/workflow_sweeper.hpp"
#include "store/audit_log_redis.hpp"
#include "store/chat_store_redis.hpp"
#include "store/db.hpp"
#include "store/directory_store_redis.hpp"
#include "store/keys.hpp"
#include "store/notice_bus_redis.hpp"
#include "store/presence_store_redis.hpp"
#include "store/redis/cluster.hpp"
#include "store/redis/connection.hpp"
#include "store/redis_check.hpp"
#include "store/script_loader.hpp"
#include "store/workflow_store_redis.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace confide::app {
namespace {

store::redis::config redis_config(const config& cfg) {
    store::redis::config r;
    r.host = cfg.redis_host;
    r.port = cfg.redis_port;
    r.unix_socket = cfg.redis_unix_socket;
    r.password = cfg.redis_password;
    r.connect_timeout = cfg.redis_timeout;
    r.command_timeout = cfg.redis_timeout;
    r.health_interval = cfg.redis_health_interval;
    return r;
}

std::string redis_address(const config& cfg) {
    if (!cfg.redis_cluster.empty()) {
        std::string out = "the Redis Cluster of ";
        for (std::size_t i = 0; i < cfg.redis_cluster.size(); ++i) {
            out += (i ? "," : "") + cfg.redis_cluster[i].first + ":" +
                   std::to_string(cfg.redis_cluster[i].second);
        }
        return out;
    }
    return cfg.redis_unix_socket.empty() ? cfg.redis_host + ":" + std::to_string(cfg.redis_port)
                                         : "unix:" + cfg.redis_unix_socket;
}

store::redis::cluster_config cluster_config_of(const config& cfg) {
    store::redis::cluster_config r;
    for (const auto& [host, port] : cfg.redis_cluster) {
        r.seeds.push_back(store::redis::node_address{host, port});
    }
    r.node = redis_config(cfg);
    return r;
}

// One Redis command connection, or one cluster client (a connection per master), per shard.
store::db make_db(const executor& ex, const config& cfg) {
    if (cfg.redis_cluster.empty()) {
        return store::redis::connection::create(ex, redis_config(cfg));
    }
    return store::redis::cluster::create(ex, cluster_config_of(cfg));
}

std::shared_ptr<store::redis_notice_bus> make_bus(const executor& ex, const config& cfg,
                                                  const store::db& redis,
                                                  const std::shared_ptr<store::sealer>& sealer) {
    if (redis.is_cluster()) {
        // The classic subscription (notices other than messages) on the first seed: a cluster
        // forwards every PUBLISH to all its nodes.
        auto classic = redis_config(cfg);
        classic.host = cfg.redis_cluster.front().first;
        classic.port = cfg.redis_cluster.front().second;
        classic.unix_socket.clear();
        return store::redis_notice_bus::create(ex, redis.cluster()->shared_from_this(),
                                               std::move(classic), sealer);
    }
    return store::redis_notice_bus::create(ex, redis_config(cfg), redis, sealer);
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
    s.idle_logoff = cfg.idle_logoff;
    s.max_connections_per_user = cfg.max_connections_per_user;
    s.send_rate = cfg.send_rate;
    s.send_burst = cfg.send_burst;
    s.typing_rate = cfg.typing_rate;
    s.request_rate = cfg.request_rate;
    s.request_burst = cfg.request_burst;
    s.stream.max_outbound_bytes = cfg.max_outbound_bytes;
    s.stream.stalled_reader_timeout = cfg.stalled_reader_timeout;
    s.safety_notice = routing::safety_notice{cfg.safety_notice, cfg.crisis_line};
    s.inquiry_expiry = cfg.inquiry_expiry;
    s.retention = cfg.retention;
    return s;
}

store::chat_store_config chat_store_config_of(const config& cfg) {
    store::chat_store_config c;
    c.inbox_max_events = cfg.inbox_max_events;
    c.sent_record_ttl = cfg.sent_record_ttl;
    c.directory_open = cfg.directory_open;
    c.remind_specialist_after = cfg.remind_specialist_after;
    c.remind_client_after = cfg.remind_client_after;
    c.ack_after_replicas = cfg.ack_after_replicas;
    c.ack_after_replicas_timeout = cfg.ack_after_replicas_timeout;
    return c;
}

// The key file's keys, or none with --allow-plaintext-storage (config refuses neither given).
std::shared_ptr<store::sealer> sealer_of(const config& cfg) {
    if (cfg.data_key_file.empty()) {
        return std::make_shared<store::sealer>(std::nullopt);
    }
    return std::make_shared<store::sealer>(crypto::kek_ring::load_file(cfg.data_key_file));
}

store::audit_config audit_config_of(const config& cfg) {
    store::audit_config a;
    a.retention = cfg.audit_retention;
    a.max_entries = cfg.audit_max_entries;
    a.node_id = cfg.node_id;
    return a;
}

routing::workflow_sweeper::options sweeper_options_of(const config& cfg) {
    routing::workflow_sweeper::options o;
    o.interval = cfg.workflow_interval;
    o.remind_specialist_after = cfg.remind_specialist_after;
    o.retention = cfg.retention;
    return o;
}

}  // namespace

// What one I/O thread's connections use: a Redis command connection, a notice bus (with its own
// subscriber connection), and the chat store and the audit log over them, all on that thread's
// io_context, so that a session's Redis traffic and the notices for it never wake another thread.
struct shard {
    shard(executor ex, const config& c, store::redis_presence_store& presence,
          routing::directory_cache& directory, routing::presence_tracker& tracker,
          routing::user_rate_limits& send_limits, const auth::token_verifier& verifier,
          store::db conn, const std::shared_ptr<store::sealer>& sealer)
        : context(&asio::query(ex, asio::execution::context)),
          redis(std::move(conn)),
          bus(make_bus(ex, c, redis, sealer)),
          audit(redis, audit_config_of(c)),
          chat(redis, chat_store_config_of(c), sealer, audit),
          services{chat,     presence, directory,   *bus,
                   verifier, tracker,  send_limits, session_config_of(c),
                   audit},
          factory(std::make_shared<routing::session_factory>(services)) {}

    const asio::execution_context* context;
    store::db redis;
    // Set by chat_node::start() on one Redis; on a cluster each master gets a script on its first
    // NOSCRIPT (script::run), whichever master a slot moves to.
    std::shared_ptr<const store::scripts_status> scripts;
    std::shared_ptr<store::redis_notice_bus> bus;
    store::redis_audit_log audit;  // before chat, which records integrity failures in it
    store::redis_chat_store chat;
    routing::services services;  // refers to the members above and to the node's shared parts
    std::shared_ptr<routing::session_factory> factory;
};

// Gives a new connection the session factory of the shard its strand runs on.
class shard_factory final : public routing::connection_handler_factory {
public:
    explicit shard_factory(const std::vector<std::unique_ptr<shard>>& shards) : shards_(shards) {}

    std::shared_ptr<routing::connection_handler> create(executor strand, routing::outbound& out,
                                                        routing::connection_info info) override {
        const auto* ctx = &asio::query(strand, asio::execution::context);
        for (const auto& s : shards_) {
            if (s->context == ctx) {
                return s->factory->create(std::move(strand), out, std::move(info));
            }
        }
        // An executor of no shard's context (not how app::server wires it): still correct, as
        // every shard is safe to use from any thread; it only costs hand-offs.
        return shards_.front()->factory->create(std::move(strand), out, std::move(info));
    }

private:
    const std::vector<std::unique_ptr<shard>>& shards_;
};

// On a cluster: up once a slot map arrived (a master that is down fails its own commands).
bool is_up(const store::db& redis) {
    return redis.is_cluster() ? redis.cluster()->topology() != nullptr
                              : redis.single()->is_connected();
}

struct chat_node::parts {
    parts(const std::vector<executor>& executors, const config& c)
        : cfg(c),
          sealer(sealer_of(c)),
          main_redis(make_db(executors.front(), c)),
          presence(main_redis, c.presence_ttl),
          directory_store(main_redis),
          directory(directory_store),
          workflow(main_redis, store::workflow_store_config{c.inbox_max_events}),
          sweeper_audit(main_redis, audit_config_of(c)),
          tracker(routing::presence_tracker::create(
              executors.front(), presence,
              routing::presence_tracker::options{c.presence_grace, c.presence_ttl})),
          sweeper(routing::workflow_sweeper::create(executors.front(), workflow, directory,
                                                    sweeper_options_of(c), &sweeper_audit)),
          send_limits(c.send_rate, c.send_burst),
          verifier(verifier_config_of(c)) {
        for (std::size_t i = 0; i < executors.size(); ++i) {
            // The first shard shares the main connection (presence, start-up checks).
            auto conn = i == 0 ? main_redis : make_db(executors[i], c);
            shards.push_back(std::make_unique<shard>(executors[i], c, presence, directory, *tracker,
                                                     send_limits, verifier, std::move(conn),
                                                     sealer));
        }
        factory = std::make_shared<shard_factory>(shards);
        // The shards outlive the handles (members declared after them go first).
        auto up = [this](bool pubsub) {
            double n = 0;
            for (const auto& s : shards) {
                n += (pubsub ? s->bus->is_connected() : is_up(s->redis)) ? 1 : 0;
            }
            return n;
        };
        constexpr const char* help =
            "Redis connections up now: command (with the scripts) and pub/sub, one each per I/O "
            "thread";
        gauges.push_back(metrics::registry::global().add_callback(
            "confide_redis_connections_up", help, metrics::kind::gauge, {{"role", "command"}},
            [up] { return up(false); }));
        gauges.push_back(metrics::registry::global().add_callback(
            "confide_redis_connections_up", help, metrics::kind::gauge, {{"role", "pubsub"}},
            [up] { return up(true); }));
    }

    config cfg;
    std::shared_ptr<store::sealer> sealer;  // the node's keys, shared by every shard
    store::db main_redis;
    store::redis_presence_store presence;
    store::redis_directory_store directory_store;
    routing::directory_cache directory;
    store::redis_workflow_store workflow;
    store::redis_audit_log sweeper_audit;  // the retention sweeps' events
    std::shared_ptr<routing::presence_tracker> tracker;
    std::shared_ptr<routing::workflow_sweeper> sweeper;
    routing::user_rate_limits send_limits;
    auth::token_verifier verifier;
    std::vector<std::unique_ptr<shard>> shards;
    std::shared_ptr<shard_factory> factory;
    std::atomic<bool> storage_checked{false};
    std::vector<metrics::callback_handle> gauges;
};

chat_node::chat_node(const std::vector<executor>& executors, const config& cfg)
    : parts_(executors.empty() ? throw std::invalid_argument("chat_node needs an executor")
                               : std::make_unique<parts>(executors, cfg)) {}

chat_node::~chat_node() = default;

void chat_node::start() {
    for (auto& s : parts_->shards) {
        if (s->redis.is_cluster()) {
            s->redis.cluster()->start();
        } else {
            s->scripts = store::load_scripts_on_connect(s->redis.single()->shared_from_this());
            s->redis.single()->start();
        }
        s->bus->start();
    }
}

awaitable<void> chat_node::check_storage() {
    const auto& cfg = parts_->cfg;
    auto ex = co_await asio::this_coro::executor;
    const auto give_up = std::chrono::steady_clock::now() + cfg.redis_startup_timeout;
    outcome<store::persistence_report> report = fail(errc::unavailable, "not checked");
    while (true) {
        report = co_await store::check_persistence(parts_->main_redis);
        if (report || std::chrono::steady_clock::now() >= give_up) {
            break;
        }
        // Redis may still be starting (or loading its data): try again shortly.
        asio::steady_timer t(ex, std::chrono::milliseconds(200));
        co_await t.async_wait(use_nothrow);
    }
    if (!report) {
        // The connection logs its failures as warnings, but the one line an operator reads is
        // this one: name the cause, found out afresh, when no connection could be made.
        std::string why = report.error().message;
        if (!parts_->main_redis.is_cluster() && !is_up(parts_->main_redis)) {
            if (auto cause = co_await store::diagnose_connection(redis_config(cfg));
                !cause.empty()) {
                why = std::move(cause);
            }
        }
        throw std::runtime_error("cannot use Redis at " + redis_address(cfg) + ": " + why);
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
    if (cfg.ack_after_replicas > 0 &&
        report->replicas < static_cast<std::int64_t>(cfg.ack_after_replicas)) {
        // Not refused: replicas may connect later. Until they do, no send is acked.
        log::warn(
            "--ack-after-replicas {}: a master has {} replica(s) connected; until {} do, every "
            "send is answered UNAVAILABLE (retry)",
            cfg.ack_after_replicas, report->replicas, cfg.ack_after_replicas);
    }
    if (cfg.directory_open) {
        log::warn(
            "--directory-open: specialists the directory does not list are listed when "
            "they sign in (development and load tests only)");
    }
    // Data of another key layout is refused whatever the flags: reading it as ours would lose
    // or corrupt messages.
    const bool seals = parts_->sealer->seals();
    auto layout = co_await store::check_layout(
        parts_->main_redis,
        seals ? store::keys::layout_version : store::keys::layout_version_plaintext);
    if (!layout) {
        throw std::runtime_error("cannot use Redis at " + redis_address(cfg) + ": " +
                                 layout.error().message);
    }
    if (!layout->problem.empty()) {
        throw std::runtime_error("cannot use Redis at " + redis_address(cfg) + ": " +
                                 layout->problem);
    }
    log::info("redis key layout {}{}", layout->version,
              layout->recorded ? " (recorded: no Confide data yet)" : "");
    // A key file that is not the one the data was sealed with is refused before anything is
    // written with it: messages sealed with another key would be unreadable to the other nodes.
    auto keys_problem =
        co_await store::check_keys(parts_->main_redis, *parts_->sealer, cfg.data_key_file);
    if (!keys_problem) {
        throw std::runtime_error("cannot use Redis at " + redis_address(cfg) + ": " +
                                 keys_problem.error().message);
    }
    if (!keys_problem->empty()) {
        throw std::runtime_error(*keys_problem);
    }
    if (seals) {
        log::info("stored text is sealed (AES-256-GCM); key-encryption key {} is current",
                  parts_->sealer->ring().current_id());
    } else {
        log::warn(
            "--allow-plaintext-storage: message bodies, topics and preferred times are stored "
            "in plaintext (development only)");
    }
    parts_->tracker->start();
    parts_->sweeper->start();
    parts_->storage_checked = true;
}

std::string chat_node::not_ready_reason() const {
    if (!parts_->storage_checked) {
        return "starting";
    }
    for (const auto& s : parts_->shards) {
        if (!is_up(s->redis)) {
            return "Redis is not answering";
        }
        if (!s->redis.is_cluster() && (!s->scripts || !s->scripts->loaded())) {
            return "the scripts are not loaded into Redis";
        }
        if (!s->bus->is_connected()) {
            return "the Redis pub/sub connection is down";
        }
    }
    return {};
}

void chat_node::stop() {
    parts_->tracker->stop();
    parts_->sweeper->stop();
    for (auto& s : parts_->shards) {
        s->bus->stop();
        if (s->redis.is_cluster()) {
            s->redis.cluster()->stop();
        } else {
            s->redis.single()->stop();
        }
    }
}

std::shared_ptr<routing::connection_handler_factory> chat_node::factory() const {
    return parts_->factory;
}

}  // namespace confide::app

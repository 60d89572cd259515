#pragma once
// What every confide-admin command uses: its two kinds of failure, and a session with Redis (an
// io_context on a thread of its own, each command a coroutine awaited from the caller's thread).

#include "common/clock.hpp"
#include "routing/audit.hpp"
#include "store/audit_log_redis.hpp"
#include "store/db.hpp"
#include "store/directory_admin.hpp"
#include "store/redis/cluster_topology.hpp"
#include "store/redis/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace confide::admin {

// A wrong command line: exit status 2, with the message and a pointer to --help.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A refused or failed command: exit status 1.
struct command_failed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The variable `name`, or `fallback` when it is unset or empty.
std::string env_or(const char* name, std::string fallback);

/// `v` as a whole number; a usage_error naming `--option` otherwise.
std::uint32_t whole_number(const std::string& option, const std::string& v);

/// Who runs the command, for the audit trail: "os:<login>" (the one behind sudo when run
/// through it), so it never reads as a platform user's id.
std::string operator_name();

/// The machine the command runs on (where audit events of connections hold an address).
std::string host_name();

/// Where confide-admin's commands go: one Redis (`redis`), or a Redis Cluster when `cluster`
/// names any of its nodes (then `redis` gives every node connection's password and deadlines).
struct redis_target {
    store::redis::config redis;
    std::vector<store::redis::node_address> cluster;
};

// Redis (or a Redis Cluster), and an io_context on a thread of its own: each command below is a
// coroutine awaited from here.
/// Thread safety: one caller thread at a time.
class session {
public:
    explicit session(const redis_target& target)
        : work_(asio::make_work_guard(ioc_)),
          thread_([this] { ioc_.run(); }),
          db_(connect(target)),
          admin_(db_),
          audit_(db_, store::audit_config{}) {}
    ~session() { stop(); }

    template <class T>
    T run(awaitable<outcome<T>> op) {
        auto r = asio::co_spawn(ioc_, std::move(op), asio::use_future).get();
        if (!r) {
            throw command_failed(r.error().message);
        }
        if constexpr (!std::is_void_v<T>) {
            return std::move(*r);
        }
    }

    store::directory_admin& directory() { return admin_; }
    const store::db& redis() const { return db_; }
    asio::io_context& executor() { return ioc_; }
    store::redis_audit_log& audit() { return audit_; }

    /// Stores the audit event of an administrative command that was carried out (`what`, e.g.
    /// "directory remove dr.x"), waiting for Redis: a command whose event could not be stored
    /// fails (exit status 1) with a reason saying it was done.
    void audited(const std::string& what,
                 routing::audit_action action = routing::audit_action::admin_command,
                 const std::string& conversation_id = {}) {
        routing::audit_event e;
        e.action = action;
        e.conversation_id = conversation_id;
        e.time_ms = now_ms();
        e.user_id = operator_name();
        e.device_id = "confide-admin";
        e.address = host_name();
        e.detail = what;
        auto r = asio::co_spawn(ioc_, audit_.store(std::move(e)), asio::use_future).get();
        if (!r) {
            throw command_failed(what + ": done, but its audit event was not stored (" +
                                 r.error().message + ")");
        }
    }

private:
    /// Connects (on a cluster: until the first slot map arrived), or throws command_failed.
    store::db connect(const redis_target& target);
    void stop();

    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
    store::db db_;
    store::directory_admin admin_;
    store::redis_audit_log audit_;
};

}  // namespace confide::admin

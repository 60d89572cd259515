#pragma once
// A real confide-server process for integration tests, on a free port, against a real Redis.

#include "auth/identity.hpp"
#include "support/process.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"
#include "support/ws_client.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace confide::test {

/// The HMAC secret and key id every test server accepts (kid "test").
const std::string& test_secret();

/// A token for `user` signed with the test key, valid for `ttl` (may be negative: expired).
std::string mint(const std::string& user, auth::role r,
                 std::chrono::seconds ttl = std::chrono::hours(1));

/// Starts `confide-server --listen 127.0.0.1:0` against `redis`, with server_args() (but those
/// `extra_args` give otherwise: --log-level, --data-key-file) and `extra_args` appended, and waits
/// for its "listening on" line. Throws when it does not start. The destructor stops it (SIGTERM,
/// then SIGKILL).
class server_process {
public:
    server_process(const redis_server& redis, std::vector<std::string> extra_args = {},
                   std::string name = "server");
    /// As above, against a Redis Cluster (`--redis-cluster` with every master's address), with
    /// `env` added to the server's environment (CONFIDE_TEST_EXIT_AT arms a fault point).
    server_process(const redis_cluster& cluster, std::vector<std::string> extra_args,
                   std::string name = "server",
                   std::vector<std::pair<std::string, std::string>> env = {});
    ~server_process();

    std::uint16_t port() const noexcept { return port_; }
    child_process& process() { return *process_; }

    /// A connected (not yet authenticated) WebSocket client.
    std::unique_ptr<ws_client> connect(ws_client::options opts = {}) const;

    /// SIGTERM and wait for a clean exit; returns the exit status.
    std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));

private:
    void start(std::vector<std::string> defaults, std::vector<std::string> extra_args,
               child_process::options opts);

    std::unique_ptr<child_process> process_;
    std::uint16_t port_ = 0;
};

/// The arguments for a server against `redis` (without --listen), for tests that start the
/// binary themselves (e.g. to watch it refuse to start). Under load, a `log_level` above debug
/// keeps the log from costing more than the load. With CONFIDE_TEST_IO_THREADS=N in the
/// environment, they include `--io-threads N`. They include `--data-key-file
/// test_data_key_file()`.
std::vector<std::string> server_args(const redis_server& redis,
                                     const std::string& log_level = "debug");

/// A key file (chmod 600) made once per test process, in a temporary directory: what every
/// server of server_args() seals with (--data-key-file).
const std::string& test_data_key_file();

/// server_args() against a Redis Cluster: `--redis-cluster` with the addresses of its masters.
std::vector<std::string> server_args(const redis_cluster& cluster,
                                     const std::string& log_level = "debug");

/// The path of the confide-server binary under test.
const char* server_binary();

/// The path of the confide-admin binary under test.
const char* admin_binary();

/// What a confide-admin run printed, and how it ended.
struct admin_result {
    int status = -1;
    std::vector<std::string> lines;  ///< stdout and stderr, in order
    std::string text() const;        ///< the lines joined with '\n'
};

/// Runs `confide-admin --redis <redis> <args...>` to its end (at most 30 s).
admin_result run_admin(const redis_server& redis, std::vector<std::string> args);
/// Runs `confide-admin --redis-cluster <every node> <args...>` to its end (at most 30 s).
admin_result run_admin(const redis_cluster& cluster, std::vector<std::string> args);

/// Lists `id` in the directory through confide-admin (display name = id unless `extra` sets
/// --name), as an operator would; throws std::runtime_error if it is refused.
void list_specialist(const redis_server& redis, const std::string& id,
                     std::vector<std::string> extra = {});
/// As above, on a Redis Cluster (confide-admin --redis-cluster).
void list_specialist(const redis_cluster& cluster, const std::string& id,
                     std::vector<std::string> extra = {});

}  // namespace confide::test

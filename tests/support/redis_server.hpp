#pragma once
// A real redis-server for integration tests: its own temporary directory and free port.

#include "support/process.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

struct redisReply;

namespace confide::test {

struct redis_server_options {
    bool appendonly = true;
    std::string appendfsync = "everysec";  ///< always, everysec or no
    std::string maxmemory_policy;          ///< e.g. "noeviction"; empty: Redis's default
    std::string maxmemory;                 ///< e.g. "64mb"; empty: no limit
    std::string password;                  ///< --requirepass; command() authenticates with it
    bool unix_socket = false;              ///< also listen on dir()/redis.sock
    std::vector<std::string> extra_args;   ///< appended to the command line, e.g. {"--x", "y"}
    /// A cluster node: its port is chosen below 32768 with its bus port (port + 10000) free too
    /// (free_port_pair).
    bool cluster_bus = false;
    std::chrono::milliseconds start_timeout{15000};
};

/// Starts `redis-server` (from PATH) on 127.0.0.1 and a free port, in a fresh temporary
/// directory, with `--save ""` and the options above, and returns once it accepts connections
/// (its "Ready to accept connections" log line). A missing redis-server is an error (the test
/// fails with a clear message), never a skip. The destructor stops it and removes the directory.
///
/// Thread safety: command(), host(), port() and dir() may be called from any thread; the
/// life-cycle members (start, stop, kill, pause, resume) from one thread at a time.
class redis_server {
public:
    explicit redis_server(redis_server_options opts = {});
    ~redis_server();

    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }
    const std::filesystem::path& dir() const noexcept { return dir_; }
    /// The unix socket's path when options::unix_socket is set, else empty.
    std::string unix_socket() const;

    /// Starts it again, on the same port and directory (e.g. after stop() or kill()). Throws
    /// std::runtime_error when it does not become ready within options::start_timeout.
    void start();
    /// SIGTERM (a clean shutdown, the AOF is flushed) and waits for the exit.
    void stop();
    /// SIGKILL (a crash) and waits for the exit.
    void kill();
    /// SIGSTOP: the process freezes; connections stay open and get no answer.
    void pause();
    /// SIGCONT.
    void resume();
    bool running() const;

    /// Runs one command with a blocking hiredis client (a fresh connection, 5 s timeout) and
    /// renders the reply: strings and statuses as they are, integers in decimal, nil as
    /// "(nil)", errors as "(error) MESSAGE", arrays as "[a, b, c]". Throws std::runtime_error
    /// when Redis cannot be reached.
    std::string command(const std::vector<std::string>& args) const;

    /// As command(), but the reply as hiredis parsed it (for nested replies, e.g. CLUSTER
    /// SLOTS). Never null.
    std::unique_ptr<redisReply, void (*)(void*)> query(const std::vector<std::string>& args) const;

    /// The most bytes that one of its clients has sent and it has not read yet (the receive
    /// queue of its connections, from /proc/net/tcp): while it is paused, proof that commands
    /// were sent to it.
    std::size_t unread_bytes() const;

    /// The running (or last) process, e.g. to wait for a log line.
    child_process& process();

private:
    bool try_start(std::string& why);

    redis_server_options opts_;
    std::string host_ = "127.0.0.1";
    std::uint16_t port_ = 0;
    std::filesystem::path dir_;
    std::unique_ptr<child_process> proc_;
};

}  // namespace confide::test

#pragma once

#include "store/redis/cluster.hpp"
#include "store/redis/connection.hpp"

#include <string>
#include <tuple>
#include <vector>

namespace confide::store::redis {

/// A Lua script run with EVALSHA, falling back to EVAL when Redis answers NOSCRIPT (after a
/// restart or SCRIPT FLUSH). The SHA1 is computed once from the body.
///
/// Thread safety: immutable after construction; run() may be called from any thread.
class script {
public:
    explicit script(std::string body);

    const std::string& body() const noexcept { return body_; }
    const std::string& sha1() const noexcept { return sha1_; }

    /// Runs the script: EVALSHA, then EVAL with the body when Redis answers NOSCRIPT (which
    /// also loads it into Redis's script cache for the next runs). Results as
    /// connection::async_exec. `conn` and this script must outlive the returned awaitable.
    awaitable<std::tuple<boost::system::error_code, reply>> run(
        connection& conn, std::vector<std::string> keys, std::vector<std::string> args) const;

    /// As above, on a Redis Cluster: on the master that owns the slot of `keys` (which must not
    /// be empty, and must all be in one slot). Each master caches the script on its first
    /// NOSCRIPT, so it works whichever master a slot moves to. `c` and this script must outlive
    /// the returned awaitable.
    awaitable<std::tuple<boost::system::error_code, reply>> run(
        cluster& c, std::vector<std::string> keys, std::vector<std::string> args) const;

private:
    std::string body_;
    std::string sha1_;
};

}  // namespace confide::store::redis

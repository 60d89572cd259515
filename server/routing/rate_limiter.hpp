#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace confide::routing {

using steady_time = std::chrono::steady_clock::time_point;

/// A token bucket: `rate` tokens per second, at most `burst` saved up. Starts full.
/// Thread safety: none (one owner, or a lock around it).
class token_bucket {
public:
    token_bucket(double rate_per_second, double burst, steady_time now) noexcept;

    /// Takes one token. Returns 0 on success, or how long to wait until one is available.
    std::chrono::milliseconds take(steady_time now) noexcept;

    /// Whether the bucket has refilled completely (an idle user's bucket can be forgotten).
    bool full(steady_time now) const noexcept;

private:
    double level(steady_time now) const noexcept;

    double rate_;
    double burst_;
    double tokens_;
    steady_time last_;
};

/// One token bucket per user, shared by all of the user's connections on this node.
/// Thread safety: safe.
class user_rate_limits {
public:
    user_rate_limits(double rate_per_second, double burst);

    /// As token_bucket::take for `user_id`'s bucket.
    std::chrono::milliseconds take(const std::string& user_id, steady_time now);

    std::size_t tracked_users() const;

private:
    double rate_;
    double burst_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, token_bucket> buckets_;
};

}  // namespace confide::routing

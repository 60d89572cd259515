#include "routing/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace confide::routing {
namespace {

// Past this many tracked users, full (idle) buckets are dropped: they hold no information.
constexpr std::size_t prune_threshold = 10'000;

}  // namespace

token_bucket::token_bucket(double rate_per_second, double burst, steady_time now) noexcept
    : rate_(rate_per_second), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

double token_bucket::level(steady_time now) const noexcept {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    return std::min(burst_, tokens_ + std::max(elapsed, 0.0) * rate_);
}

std::chrono::milliseconds token_bucket::take(steady_time now) noexcept {
    tokens_ = level(now);
    last_ = std::max(last_, now);
    if (tokens_ >= 1.0) {
        tokens_ -= 1.0;
        return std::chrono::milliseconds(0);
    }
    if (rate_ <= 0.0) {
        return std::chrono::hours(1);
    }
    const double wait_s = (1.0 - tokens_) / rate_;
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(wait_s * 1000.0)));
}

bool token_bucket::full(steady_time now) const noexcept {
    return level(now) >= burst_;
}

user_rate_limits::user_rate_limits(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(burst) {}

std::chrono::milliseconds user_rate_limits::take(const std::string& user_id, steady_time now) {
    std::lock_guard lock(mutex_);
    if (buckets_.size() >= prune_threshold) {
        std::erase_if(buckets_, [now](const auto& kv) { return kv.second.full(now); });
    }
    auto it = buckets_.try_emplace(user_id, rate_, burst_, now).first;
    return it->second.take(now);
}

std::size_t user_rate_limits::tracked_users() const {
    std::lock_guard lock(mutex_);
    return buckets_.size();
}

}  // namespace confide::routing

#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace confide::loadgen {

std::size_t histogram::bucket_of(std::uint64_t value) noexcept {
    value = std::min(value, max_trackable);
    if (value < linear_count) {
        return static_cast<std::size_t>(value);
    }
    const unsigned exponent = 63U - static_cast<unsigned>(std::countl_zero(value));
    const unsigned shift = exponent - sub_bits;
    // The top sub_bits + 1 bits of the value, minus its leading one.
    const std::uint64_t sub = (value >> shift) - sub_count;
    return linear_count + (exponent - linear_bits) * sub_count + static_cast<std::size_t>(sub);
}

std::uint64_t histogram::lowest_in_bucket(std::size_t bucket) noexcept {
    if (bucket < linear_count) {
        return bucket;
    }
    const std::size_t octave = (bucket - linear_count) / sub_count;
    const std::size_t sub = (bucket - linear_count) % sub_count;
    const unsigned exponent = static_cast<unsigned>(octave) + linear_bits;
    return static_cast<std::uint64_t>(sub_count + sub) << (exponent - sub_bits);
}

std::uint64_t histogram::highest_in_bucket(std::size_t bucket) noexcept {
    if (bucket < linear_count) {
        return bucket;
    }
    const std::size_t octave = (bucket - linear_count) / sub_count;
    const unsigned exponent = static_cast<unsigned>(octave) + linear_bits;
    return lowest_in_bucket(bucket) + (std::uint64_t{1} << (exponent - sub_bits)) - 1;
}

void histogram::record(std::uint64_t value, std::uint64_t count) noexcept {
    if (count == 0) {
        return;
    }
    if (value > max_trackable) {
        saturated_ += count;
        value = max_trackable;
    }
    counts_[bucket_of(value)] += count;
    if (count_ == 0 || value < min_) {
        min_ = value;
    }
    max_ = std::max(max_, value);
    count_ += count;
    sum_ += static_cast<long double>(value) * static_cast<long double>(count);
}

void histogram::merge(const histogram& other) noexcept {
    if (other.count_ == 0) {
        return;
    }
    for (std::size_t i = 0; i < bucket_count; ++i) {
        counts_[i] += other.counts_[i];
    }
    if (count_ == 0 || other.min_ < min_) {
        min_ = other.min_;
    }
    max_ = std::max(max_, other.max_);
    count_ += other.count_;
    saturated_ += other.saturated_;
    sum_ += other.sum_;
}

void histogram::reset() noexcept {
    *this = histogram{};
}

double histogram::mean() const noexcept {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

std::uint64_t histogram::value_at_percentile(double percentile) const noexcept {
    if (count_ == 0) {
        return 0;
    }
    percentile = std::clamp(percentile, 0.0, 100.0);
    // The rank of the value asked for, 1-based: ceil(p% of count), at least 1.
    auto rank = static_cast<std::uint64_t>(
        std::ceil(percentile / 100.0 * static_cast<double>(count_) - 1e-9));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            return std::clamp(highest_in_bucket(i), min_, max_);
        }
    }
    return max_;
}

}  // namespace confide::loadgen

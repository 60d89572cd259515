#pragma once
// A log-linear ("HDR-style") latency histogram: exact below 256, then 128 buckets per power of
// two, so every recorded value is known to within 1/128 (< 0.8 %). Fixed size, no allocation
// after construction, mergeable. Units are the caller's (the load generator records µs).

#include <array>
#include <cstddef>
#include <cstdint>

namespace confide::loadgen {

/// Thread safety: none; one writer, or copy it out under the writer's lock.
class histogram {
public:
    /// Values above this are recorded as this value (and counted in saturated()).
    static constexpr std::uint64_t max_trackable = (std::uint64_t{1} << 36) - 1;

    /// Records `value`, `count` times.
    void record(std::uint64_t value, std::uint64_t count = 1) noexcept;
    /// Adds every value recorded in `other`.
    void merge(const histogram& other) noexcept;
    /// Forgets every value.
    void reset() noexcept;

    std::uint64_t count() const noexcept { return count_; }
    /// Exact minimum and maximum of the recorded values (0 when empty).
    std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
    std::uint64_t max() const noexcept { return max_; }
    /// Exact mean of the recorded (clamped) values; 0 when empty.
    double mean() const noexcept;
    /// How many values were above max_trackable.
    std::uint64_t saturated() const noexcept { return saturated_; }

    /// The smallest value v such that at least `percentile` % of the recorded values are <= v,
    /// to within the bucket precision (the bucket's highest value, never above max()).
    /// `percentile` is clamped to [0, 100]; 0 when empty.
    std::uint64_t value_at_percentile(double percentile) const noexcept;

    /// Bucket geometry, exposed for tests.
    static std::size_t bucket_of(std::uint64_t value) noexcept;
    static std::uint64_t lowest_in_bucket(std::size_t bucket) noexcept;
    static std::uint64_t highest_in_bucket(std::size_t bucket) noexcept;

private:
    static constexpr unsigned linear_bits = 8;  // exact below 256
    static constexpr unsigned sub_bits = 7;     // 128 buckets per octave
    static constexpr std::size_t linear_count = std::size_t{1} << linear_bits;
    static constexpr std::size_t sub_count = std::size_t{1} << sub_bits;
    static constexpr unsigned max_exponent = 35;  // of max_trackable
    static constexpr std::size_t bucket_count =
        linear_count + (max_exponent - linear_bits + 1) * sub_count;

    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t min_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t saturated_ = 0;
    long double sum_ = 0;
};

}  // namespace confide::loadgen

#include "histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using confide::loadgen::histogram;

TEST(histogram, empty_reports_zeros) {
    histogram h;
    EXPECT_EQ(h.count(), 0U);
    EXPECT_EQ(h.min(), 0U);
    EXPECT_EQ(h.max(), 0U);
    EXPECT_EQ(h.mean(), 0.0);
    EXPECT_EQ(h.value_at_percentile(50), 0U);
    EXPECT_EQ(h.value_at_percentile(100), 0U);
}

TEST(histogram, exact_below_256) {
    histogram h;
    for (std::uint64_t v = 0; v < 256; ++v) {
        h.record(v);
    }
    EXPECT_EQ(h.count(), 256U);
    EXPECT_EQ(h.min(), 0U);
    EXPECT_EQ(h.max(), 255U);
    EXPECT_EQ(h.value_at_percentile(50), 127U);
    EXPECT_EQ(h.value_at_percentile(100), 255U);
    EXPECT_DOUBLE_EQ(h.mean(), 127.5);
}

TEST(histogram, buckets_tile_the_range_without_gaps) {
    std::uint64_t expected_low = 0;
    for (std::size_t b = 0; histogram::lowest_in_bucket(b) <= histogram::max_trackable; ++b) {
        const auto lo = histogram::lowest_in_bucket(b);
        const auto hi = histogram::highest_in_bucket(b);
        ASSERT_EQ(lo, expected_low) << "bucket " << b;
        ASSERT_LE(lo, hi);
        ASSERT_EQ(histogram::bucket_of(lo), b);
        ASSERT_EQ(histogram::bucket_of(hi), b);
        expected_low = hi + 1;
        if (hi == histogram::max_trackable) {
            break;
        }
    }
    EXPECT_EQ(expected_low, histogram::max_trackable + 1);
}

TEST(histogram, relative_error_below_one_percent) {
    std::mt19937_64 rng(42);
    for (int i = 0; i < 100'000; ++i) {
        // Log-uniform over 1 .. 2^35.
        const auto v = static_cast<std::uint64_t>(
            std::exp2(std::uniform_real_distribution<double>(0, 35)(rng)));
        const auto b = histogram::bucket_of(v);
        const auto lo = histogram::lowest_in_bucket(b);
        const auto hi = histogram::highest_in_bucket(b);
        ASSERT_LE(lo, v);
        ASSERT_GE(hi, v);
        ASSERT_LE(static_cast<double>(hi - lo), 0.01 * static_cast<double>(v)) << v;
    }
}

TEST(histogram, percentiles_of_a_uniform_distribution) {
    histogram h;
    for (std::uint64_t v = 1; v <= 100'000; ++v) {
        h.record(v);
    }
    for (const double p : {50.0, 90.0, 99.0, 99.9}) {
        const auto expected = static_cast<double>(p * 1000);
        const auto got = static_cast<double>(h.value_at_percentile(p));
        EXPECT_NEAR(got, expected, expected * 0.01) << p;
        EXPECT_GE(got, expected) << "never below the true percentile";
    }
    EXPECT_EQ(h.value_at_percentile(100), 100'000U);
    EXPECT_EQ(h.value_at_percentile(0), 1U);
    EXPECT_EQ(h.min(), 1U);
    EXPECT_EQ(h.max(), 100'000U);
}

TEST(histogram, percentile_never_exceeds_max_or_falls_below_min) {
    histogram h;
    h.record(1'000'003);
    EXPECT_EQ(h.value_at_percentile(50), 1'000'003U);
    EXPECT_EQ(h.value_at_percentile(99.9), 1'000'003U);
}

TEST(histogram, matches_sorted_samples) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> d(7.0, 1.5);
    std::vector<std::uint64_t> samples;
    histogram h;
    for (int i = 0; i < 50'000; ++i) {
        const auto v = static_cast<std::uint64_t>(d(rng));
        samples.push_back(v);
        h.record(v);
    }
    std::sort(samples.begin(), samples.end());
    for (const double p : {50.0, 90.0, 99.0, 99.9}) {
        const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * 50'000)) - 1;
        const auto exact = static_cast<double>(samples[rank]);
        EXPECT_NEAR(static_cast<double>(h.value_at_percentile(p)), exact,
                    std::max(1.0, exact * 0.01))
            << p;
    }
}

TEST(histogram, records_counts_and_merges) {
    histogram a;
    histogram b;
    a.record(10, 3);
    b.record(1000);
    b.record(5);
    a.merge(b);
    EXPECT_EQ(a.count(), 5U);
    EXPECT_EQ(a.min(), 5U);
    EXPECT_EQ(a.max(), 1000U);
    EXPECT_DOUBLE_EQ(a.mean(), (30.0 + 1000 + 5) / 5);
    EXPECT_EQ(a.value_at_percentile(60), 10U);
    histogram empty;
    a.merge(empty);
    EXPECT_EQ(a.count(), 5U);
    empty.merge(a);
    EXPECT_EQ(empty.min(), 5U);
    a.record(7, 0);
    EXPECT_EQ(a.count(), 5U);
}

TEST(histogram, saturates_huge_values) {
    histogram h;
    h.record(histogram::max_trackable + 12345);
    EXPECT_EQ(h.saturated(), 1U);
    EXPECT_EQ(h.max(), histogram::max_trackable);
    EXPECT_EQ(h.value_at_percentile(50), histogram::max_trackable);
}

TEST(histogram, reset_forgets) {
    histogram h;
    h.record(99);
    h.reset();
    EXPECT_EQ(h.count(), 0U);
    EXPECT_EQ(h.max(), 0U);
    h.record(3);
    EXPECT_EQ(h.min(), 3U);
}

}  // namespace

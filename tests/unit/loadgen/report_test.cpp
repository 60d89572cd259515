#include "report.hpp"

#include <gtest/gtest.h>
#include <boost/json/value.hpp>

namespace {

using namespace confide::loadgen;

run_result clean_run() {
    run_result r;
    r.opt.clients = 2;
    r.opt.specialists = 2;
    r.totals.established = 4;
    r.tally.generated = r.tally.acked = r.tally.delivered = r.tally.echoed = 100;
    r.drained = true;
    r.measure_start_s = 1;
    r.measure_end_s = 11;
    r.at_measure_end.acked = 50;
    r.at_measure_end.delivered = 40;
    r.ack.record(1000);
    r.delivery.record(2000);
    return r;
}

TEST(judge, clean_run_passes) {
    const auto v = judge(clean_run());
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_TRUE(v.reasons.empty());
    EXPECT_TRUE(v.warnings.empty());
}

TEST(judge, every_kind_of_message_failure_fails) {
    const std::vector<void (*)(run_result&)> breakers = {
        [](run_result& r) { r.tally.lost = 1; },
        [](run_result& r) { r.tally.lost_echo = 1; },
        [](run_result& r) { r.tally.duplicated = 1; },
        [](run_result& r) { r.totals.seq_duplicates = 1; },
        [](run_result& r) { r.totals.reordered = 1; },
        [](run_result& r) { r.seq_holes = 1; },
        [](run_result& r) { r.totals.corrupted = 1; },
        [](run_result& r) { r.totals.misrouted = 1; },
        [](run_result& r) { r.totals.unknown_messages = 1; },
        [](run_result& r) { r.totals.sync_resets = 1; },
    };
    for (std::size_t i = 0; i < breakers.size(); ++i) {
        auto r = clean_run();
        breakers[i](r);
        const auto v = judge(r);
        EXPECT_EQ(v.exit_code, 1) << i;
        EXPECT_EQ(v.reasons.size(), 1U) << i;
    }
}

TEST(judge, missing_echo_is_fine_when_not_expected) {
    auto r = clean_run();
    r.tally.lost_echo = 5;
    r.opt.expect_echo = false;
    EXPECT_EQ(judge(r).exit_code, 0);
}

TEST(judge, failed_connections_beyond_the_threshold) {
    auto r = clean_run();
    r.connections_failed = 2;
    r.opt.max_failed_connections = 2;
    EXPECT_EQ(judge(r).exit_code, 0);
    r.connections_failed = 3;
    EXPECT_EQ(judge(r).exit_code, 3);
    r.tally.lost = 1;
    EXPECT_EQ(judge(r).exit_code, 1) << "message failures win";
}

TEST(judge, warnings_do_not_fail) {
    auto r = clean_run();
    r.tally.unacked = 3;
    r.tally.failed = 1;
    r.drained = false;
    r.totals.unexpected_closes = 2;
    const auto v = judge(r);
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_EQ(v.warnings.size(), 4U);
}

TEST(to_json, has_the_numbers_scripts_read) {
    auto r = clean_run();
    r.totals.errors[5] = 7;
    timeline_point p;
    p.t_s = 1;
    p.totals.acked = 10;
    r.timeline.push_back(p);
    r.backlog = backlog_result{10000, 2000};
    const auto v = judge(r);
    const auto j = to_json(r, v).as_object();
    EXPECT_EQ(j.at("verdict").at("ok").as_bool(), true);
    EXPECT_EQ(j.at("messages").at("lost").to_number<std::uint64_t>(), 0U);
    EXPECT_EQ(j.at("messages").at("acked").to_number<std::uint64_t>(), 100U);
    EXPECT_DOUBLE_EQ(j.at("rates").at("acked_per_s").to_number<double>(), 5.0);
    EXPECT_DOUBLE_EQ(j.at("rates").at("delivered_per_s").to_number<double>(), 4.0);
    EXPECT_EQ(j.at("latency").at("ack").at("p99").to_number<std::uint64_t>(), 1000U);
    EXPECT_EQ(j.at("errors").at("RATE_LIMITED").to_number<std::uint64_t>(), 7U);
    EXPECT_DOUBLE_EQ(j.at("backlog").at("messages_per_s").to_number<double>(), 5000.0);
    EXPECT_EQ(j.at("timeline").at("acked_per_s").as_array().size(), 1U);
    EXPECT_EQ(j.at("connections").at("established").to_number<std::uint64_t>(), 4U);
}

TEST(format_us, units) {
    EXPECT_EQ(format_us(999), "999 us");
    EXPECT_EQ(format_us(1500), "1.50 ms");
    EXPECT_EQ(format_us(12'300'000), "12.3 s");
}

}  // namespace

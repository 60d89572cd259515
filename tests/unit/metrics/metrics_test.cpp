#include "metrics/metrics.hpp"
#include "metrics/process_metrics.hpp"
#include "support/metrics_text.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace confide::metrics {
namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> parse(const std::string& text) {
    return test::metric_values(text);
}

TEST(metrics, counters_of_many_threads_add_up) {
    registry r;
    auto c = r.add_counter("test_events_total", "Events.");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([c] {
            for (int i = 0; i < 10000; ++i) {
                c.inc();
            }
        });
    }
    c.inc(5);
    for (auto& t : threads) {
        t.join();
    }
    // The ended threads' counts stay.
    EXPECT_EQ(parse(r.render())["test_events_total"], "40005");
}

TEST(metrics, labelled_series_share_one_help_and_type) {
    registry r;
    auto a = r.add_counter("test_errors_total", "Errors by code.", {{"code", "A"}});
    auto b = r.add_counter("test_errors_total", "Errors by code.", {{"code", "B"}});
    a.inc(2);
    b.inc();
    const auto text = r.render();
    EXPECT_NE(
        text.find("# HELP test_errors_total Errors by code.\n# TYPE test_errors_total "
                  "counter\ntest_errors_total{code=\"A\"} 2\ntest_errors_total{code=\"B\"} 1\n"),
        std::string::npos)
        << text;
}

TEST(metrics, a_gauge_goes_up_on_one_thread_and_down_on_another) {
    registry r;
    auto g = r.add_gauge("test_open", "Open things.");
    g.add(3);
    std::thread([g] {
        g.dec();
        g.dec();
    }).join();
    EXPECT_EQ(parse(r.render())["test_open"], "1");
    std::thread([g] { g.dec(); }).join();
    g.dec();
    EXPECT_EQ(parse(r.render())["test_open"], "-1");
}

TEST(metrics, histogram_buckets_are_cumulative_with_sum_and_count) {
    registry r;
    auto h = r.add_histogram("test_latency_seconds", "Latency.", {0.001, 0.01, 0.1}, {{"op", "x"}});
    h.observe(500us);  // <= 0.001
    h.observe(1ms);    // <= 0.001 (le is inclusive)
    h.observe(20ms);   // <= 0.1
    h.observe(2s);     // +Inf
    h.observe(-1ms);   // clamped to 0
    auto m = parse(r.render());
    EXPECT_EQ(m["test_latency_seconds_bucket{op=\"x\",le=\"0.001\"}"], "3");
    EXPECT_EQ(m["test_latency_seconds_bucket{op=\"x\",le=\"0.01\"}"], "3");
    EXPECT_EQ(m["test_latency_seconds_bucket{op=\"x\",le=\"0.1\"}"], "4");
    EXPECT_EQ(m["test_latency_seconds_bucket{op=\"x\",le=\"+Inf\"}"], "5");
    EXPECT_EQ(m["test_latency_seconds_count{op=\"x\"}"], "5");
    EXPECT_DOUBLE_EQ(std::stod(m["test_latency_seconds_sum{op=\"x\"}"]), 2.0215);
}

TEST(metrics, callbacks_are_summed_per_series_and_stop_when_their_handle_goes) {
    registry r;
    auto h1 =
        r.add_callback("test_connections", "Connections.", kind::gauge, {}, [] { return 2.0; });
    {
        auto h2 =
            r.add_callback("test_connections", "Connections.", kind::gauge, {}, [] { return 3.0; });
        EXPECT_EQ(parse(r.render())["test_connections"], "5");
    }
    EXPECT_EQ(parse(r.render())["test_connections"], "2");
    h1.reset();
    EXPECT_EQ(r.render().find("test_connections"), std::string::npos);
}

TEST(metrics, label_values_are_escaped) {
    registry r;
    r.add_counter("test_total", "With \\ and\nnewline.", {{"v", "a\"b\\c\nd"}}).inc();
    const auto text = r.render();
    EXPECT_NE(text.find("# HELP test_total With \\\\ and\\nnewline.\n"), std::string::npos) << text;
    EXPECT_NE(text.find("test_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
}

TEST(metrics, invalid_registrations_are_refused) {
    registry r;
    EXPECT_THROW(r.add_counter("1bad", "x"), std::invalid_argument);
    EXPECT_THROW(r.add_counter("bad-name", "x"), std::invalid_argument);
    EXPECT_THROW(r.add_counter("ok_total", "x", {{"le", "1"}}), std::invalid_argument);
    EXPECT_THROW(r.add_counter("ok_total", "x", {{"__x", "1"}}), std::invalid_argument);
    EXPECT_THROW(r.add_histogram("h_seconds", "x", {0.1, 0.05}), std::invalid_argument);
    EXPECT_THROW(r.add_histogram("h_seconds", "x", {}), std::invalid_argument);
    r.add_counter("twice", "x");
    EXPECT_THROW(r.add_gauge("twice", "x"), std::invalid_argument);
    // Nothing half-registered shows.
    EXPECT_EQ(r.render().find("ok_total"), std::string::npos);
}

TEST(metrics, a_default_handle_counts_nowhere) {
    registry r;
    counter c;
    c.inc();
    histogram h;
    h.observe(1ms);
    EXPECT_EQ(r.render(), "");
}

TEST(metrics, process_metrics_read_this_process) {
    registry r;
    auto handles = add_process_metrics(r);
    auto m = parse(r.render());
    EXPECT_GT(std::stod(m["process_resident_memory_bytes"]), 1e6);
    EXPECT_GT(std::stod(m["process_open_fds"]), 2);
    EXPECT_GT(std::stod(m["process_max_fds"]), std::stod(m["process_open_fds"]));
    const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    const double start = std::stod(m["process_start_time_seconds"]);
    EXPECT_LE(start, now + 1);
    EXPECT_GT(start, now - 3600);
    EXPECT_GE(std::stod(m["process_cpu_seconds_total"]), 0);
}

}  // namespace
}  // namespace confide::metrics

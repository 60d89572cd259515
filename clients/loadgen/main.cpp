// confide-loadgen: many WebSocket connections on a few threads (one io_context each), every
// message checked. See usage_text() and docs/benchmarks.md.

#include "confide/dev_token.hpp"
#include "confide/ws/tls.hpp"
#include "options.hpp"
#include "report.hpp"
#include "shard.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/serialize.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace confide::loadgen {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

constexpr auto tick = 100ms;

void raise_nofile_limit(std::uint64_t connections) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return;
    }
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && connections + 64 > rl.rlim_cur) {
        std::fprintf(stderr,
                     "confide-loadgen: warning: %llu connections need more descriptors than the "
                     "limit (%llu): run several processes\n",
                     static_cast<unsigned long long>(connections),
                     static_cast<unsigned long long>(rl.rlim_cur));
    }
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

class controller {
public:
    explicit controller(options opt) : opt_(std::move(opt)) {}

    int run() {
        raise_nofile_limit(opt_.connections());
        resolve();
        build();
        start_threads();
        result_.started_at = utc_now();
        if (opt_.connect_only) {
            run_connect_only();
        } else if (opt_.backlog) {
            run_backlog();
        } else {
            run_messages();
        }
        shut_down();
        return finish_report();
    }

private:
    void resolve() {
        asio::io_context ioc;
        asio::ip::tcp::resolver resolver(ioc);
        auto results = resolver.resolve(opt_.host, opt_.port);
        if (results.empty()) {
            throw std::runtime_error("cannot resolve " + opt_.host);
        }
        // Resolved once for every connection of the run.
        target_.address = results.begin()->endpoint();
        target_.host = opt_.host;
        target_.port = opt_.port;
        target_.target = opt_.target;
        if (opt_.tls) {
            // One context for every connection: the CAs are read once.
            target_.tls = ws::make_tls_context(opt_.ca_file);
        }
        target_.headers = {{"User-Agent", "confide-loadgen"}};
        target_.open_timeout =
            std::chrono::milliseconds(static_cast<std::int64_t>(opt_.connect_timeout_s * 1000));
        // Frames are at most 64 KiB by the protocol; a broken server must not make us buffer more.
        target_.read_message_max = 1024 * 1024;
        for (const auto& s : opt_.source_addresses) {
            boost::system::error_code ec;
            auto a = asio::ip::make_address(s, ec);
            if (ec) {
                throw std::runtime_error("--source-addresses: not an IP address: " + s);
            }
            sources_.push_back(a);
        }
    }

    std::string user_id(const char* kind, std::uint32_t i) const {
        return "lg-" + opt_.run_id + "-" + kind + std::to_string(i);
    }

    std::string token(const std::string& user, const char* role) const {
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        dev_token::claims claims;
        claims.sub = user;
        claims.role = role;
        claims.iat = now;
        claims.exp = now + static_cast<std::int64_t>(opt_.duration_s + opt_.drain_s) + 3600;
        return dev_token::mint(opt_.key_id, opt_.secret, "HS256", claims);
    }

    void build() {
        const unsigned threads = opt_.threads;
        for (unsigned i = 0; i < threads; ++i) {
            shards_.push_back(std::make_unique<shard>(i, opt_, clock_, target_, sources_));
        }
        const std::uint32_t n = opt_.clients;
        const std::uint32_t m = opt_.specialists;
        if (opt_.connect_only) {
            for (std::uint32_t i = 0; i < n + m; ++i) {
                const bool client = i < n;
                const auto u = client ? user_id("c", i) : user_id("s", i - n);
                const char* role = client ? "client" : "specialist";
                shards_[i % threads]->add_agent(
                    i, client ? agent_role::client : agent_role::specialist, u, token(u, role));
            }
            return;
        }
        if (m < threads) {
            std::fprintf(stderr,
                         "confide-loadgen: note: conversations are placed by specialist; with "
                         "%u specialists only %u of %u threads work\n",
                         m, m, threads);
        }
        // Both parties of a conversation on one shard: its bookkeeping needs no lock.
        std::vector<agent*> specialists(m);
        for (std::uint32_t j = 0; j < m; ++j) {
            const auto u = user_id("s", j);
            specialists[j] = &shards_[j % threads]->add_agent(n + j, agent_role::specialist, u,
                                                              token(u, "specialist"));
        }
        for (std::uint32_t i = 0; i < n; ++i) {
            const std::uint32_t j = i % m;
            const auto u = user_id("c", i);
            agent& c =
                shards_[j % threads]->add_agent(i, agent_role::client, u, token(u, "client"));
            c.set_peer(specialists[j]);
            if (!opt_.conversation_prefix.empty()) {
                c.join_conversation(opt_.conversation_prefix + std::to_string(i));
            }
            specialists[j]->add_client(&c);
        }
    }

    void start_threads() {
        for (auto& s : shards_) {
            threads_.emplace_back([sh = s.get(), this] {
                try {
                    sh->run();
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "confide-loadgen: shard thread: %s\n", e.what());
                    thread_failed_ = true;
                }
                ++finished_threads_;
            });
        }
    }

    // --- gauges, summed over shards -----------------------------------------------------------

    template <class F>
    std::uint64_t sum(F f) const {
        std::uint64_t n = 0;
        for (const auto& s : shards_) {
            n += f(s->gauges());
        }
        return n;
    }
    static std::uint64_t load(const std::atomic<std::uint64_t>& a) {
        return a.load(std::memory_order_relaxed);
    }
    std::uint64_t live() const {
        return sum([](const shard_gauges& g) { return load(g.live); });
    }
    std::uint64_t done() const {
        return sum([](const shard_gauges& g) { return load(g.done); });
    }
    counter_values totals() const {
        counter_values v;
        for (const auto& s : shards_) {
            v += s->stats().snapshot();
        }
        return v;
    }
    double now_s() const { return static_cast<double>(clock_.now_us()) / 1e6; }

    // Waits (ticking the progress line) until `pred` holds or `limit_s` of run time has passed.
    // Returns whether `pred` held.
    bool wait_until(const std::function<bool()>& pred, double limit_s) {
        // Bounded: one iteration per tick until limit_s.
        while (now_s() < limit_s) {
            if (pred()) {
                return true;
            }
            std::this_thread::sleep_for(tick);
            result_.peak_live = std::max(result_.peak_live, live());
            progress();
            if (thread_failed_) {
                return false;
            }
        }
        return pred();
    }

    void progress() {
        const double t = now_s();
        if (t < next_progress_s_) {
            return;
        }
        next_progress_s_ = std::floor(t) + 1.0;
        histogram ack;
        histogram delivery;
        for (auto& s : shards_) {
            s->take_interval(ack, delivery);
        }
        timeline_point p;
        p.t_s = t;
        p.live = live();
        p.totals = totals();
        p.ack_p99_us = ack.value_at_percentile(99);
        p.delivery_p99_us = delivery.value_at_percentile(99);
        result_.peak_live = std::max(result_.peak_live, p.live);
        const counter_values prev =
            result_.timeline.empty() ? counter_values{} : result_.timeline.back().totals;
        const double dt = result_.timeline.empty() ? t : t - result_.timeline.back().t_s;
        auto rate = [dt](std::uint64_t a, std::uint64_t b) {
            return dt > 0 ? static_cast<double>(a - b) / dt : 0.0;
        };
        if (opt_.progress) {
            const auto unsettled = sum([](const shard_gauges& g) { return load(g.unsettled); });
            std::fprintf(
                stderr,
                "[%6.1fs] live %llu/%llu | sent %llu (%.0f/s) acked %llu (%.0f/s) "
                "delivered %llu (%.0f/s) | ack p50 %s p99 %s | e2e p99 %s | unsettled "
                "%llu errors %llu drops %llu\n",
                t, static_cast<unsigned long long>(p.live),
                static_cast<unsigned long long>(opt_.connections()),
                static_cast<unsigned long long>(p.totals.sent), rate(p.totals.sent, prev.sent),
                static_cast<unsigned long long>(p.totals.acked), rate(p.totals.acked, prev.acked),
                static_cast<unsigned long long>(p.totals.delivered),
                rate(p.totals.delivered, prev.delivered),
                format_us(ack.value_at_percentile(50)).c_str(), format_us(p.ack_p99_us).c_str(),
                format_us(p.delivery_p99_us).c_str(), static_cast<unsigned long long>(unsettled),
                static_cast<unsigned long long>(p.totals.error_replies),
                static_cast<unsigned long long>(p.totals.drops));
        }
        result_.timeline.push_back(p);
    }

    double open_bound_s() const {
        return opt_.ramp_up_s +
               (opt_.connect_timeout_s + 6.0) * (static_cast<double>(opt_.connect_retries) + 1.0);
    }

    // --- phases --------------------------------------------------------------------------------

    void run_messages() {
        const auto ramp =
            std::chrono::milliseconds(static_cast<std::int64_t>(opt_.ramp_up_s * 1000));
        for (auto& s : shards_) {
            s->post_start(true, true, ramp);
        }
        const double end = opt_.duration_s;
        // The rates are measured after the ramp, or from the start when there is none.
        wait_until([] { return false; }, opt_.ramp_up_s);
        result_.measure_start_s = now_s();
        result_.at_measure_start = totals();
        const std::uint64_t all = opt_.connections();
        wait_until(
            [&] {
                const auto complete =
                    sum([](const shard_gauges& g) { return load(g.sending_complete); });
                return done() == all || (opt_.messages_per_connection != 0 && complete == all &&
                                         live() + done() == all);
            },
            end);
        stop_sending_and_drain();
    }

    void stop_sending_and_drain() {
        result_.measure_end_s = now_s();
        result_.at_measure_end = totals();
        for (auto& s : shards_) {
            s->post_stop_sending();
        }
        const double start = now_s();
        result_.drained = wait_until(
            [&] {
                const bool stopped = std::all_of(shards_.begin(), shards_.end(), [](const auto& s) {
                    return s->gauges().sending_stopped.load(std::memory_order_acquire);
                });
                return stopped &&
                       sum([](const shard_gauges& g) { return load(g.unsettled); }) == 0 &&
                       sum([](const shard_gauges& g) { return load(g.pending_sends); }) == 0;
            },
            start + opt_.drain_s);
        result_.drain_s = now_s() - start;
    }

    void run_backlog() {
        const auto ramp =
            std::chrono::milliseconds(static_cast<std::int64_t>(opt_.ramp_up_s * 1000));
        const std::uint64_t all = opt_.connections();
        // 1. Specialists connect once (to have a cursor) and go offline.
        for (auto& s : shards_) {
            s->post_start(true, false, ramp);
        }
        wait_until(
            [&] {
                return sum([](const shard_gauges& g) { return load(g.offline); }) + done() >=
                       opt_.specialists;
            },
            now_s() + open_bound_s());
        // 2. Clients send everything; the specialists' inboxes fill up.
        for (auto& s : shards_) {
            s->post_start(false, true, ramp);
        }
        result_.measure_start_s = now_s();
        result_.at_measure_start = totals();
        wait_until(
            [&] {
                return sum([](const shard_gauges& g) { return load(g.sending_complete); }) == all;
            },
            now_s() + opt_.duration_s);
        result_.measure_end_s = now_s();
        result_.at_measure_end = totals();
        // 3. The specialists come back and drain.
        const auto delivered_before = totals().delivered;
        const std::int64_t online_us = clock_.now_us();
        for (auto& s : shards_) {
            s->post_go_online();
        }
        const double start = now_s();
        result_.drained = wait_until(
            [&] { return sum([](const shard_gauges& g) { return load(g.unsettled); }) == 0; },
            start + opt_.drain_s);
        result_.drain_s = now_s() - start;
        std::int64_t last = 0;
        for (const auto& s : shards_) {
            last = std::max(last, s->gauges().last_delivery_us.load(std::memory_order_relaxed));
        }
        backlog_result b;
        b.messages = totals().delivered - delivered_before;
        b.drain_ms = static_cast<double>(std::max<std::int64_t>(last - online_us, 0)) / 1000.0;
        result_.backlog = b;
        for (auto& s : shards_) {
            s->post_stop_sending();
        }
    }

    void run_connect_only() {
        const auto ramp =
            std::chrono::milliseconds(static_cast<std::int64_t>(opt_.ramp_up_s * 1000));
        for (auto& s : shards_) {
            s->post_start(true, true, ramp);
        }
        const std::uint64_t all = opt_.connections();
        result_.measure_start_s = now_s();
        wait_until(
            [&] {
                return sum([](const shard_gauges& g) { return load(g.started); }) == all &&
                       live() + done() == all;
            },
            std::min(opt_.duration_s, open_bound_s()));
        std::fprintf(stderr, "confide-loadgen: holding %llu of %llu connections\n",
                     static_cast<unsigned long long>(live()), static_cast<unsigned long long>(all));
        if (!opt_.ready_file.empty()) {
            std::ofstream(opt_.ready_file) << live() << "\n";
        }
        wait_until([] { return false; }, opt_.duration_s);
        result_.measure_end_s = now_s();
        result_.at_measure_start = result_.at_measure_end = totals();
        result_.drained = true;
    }

    void shut_down() {
        if (!opt_.ready_file.empty() && !opt_.connect_only) {
            std::ofstream(opt_.ready_file) << live() << "\n";
        }
        for (auto& s : shards_) {
            s->post_close_all();
        }
        const std::uint64_t all = opt_.connections();
        wait_until([&] { return done() == all; }, now_s() + 10.0);
        result_.elapsed_s = now_s();
        for (auto& s : shards_) {
            s->post_finish();
        }
        // The threads end once their io_contexts run out of work; a stuck one is stopped.
        const double limit = now_s() + 5.0;
        while (now_s() < limit && !all_quiet()) {
            std::this_thread::sleep_for(10ms);
        }
        for (auto& s : shards_) {
            s->stop();
        }
        for (auto& t : threads_) {
            t.join();
        }
    }

    bool all_quiet() {
        // No way to ask an io_context whether run() returned; the threads flag it.
        return quiet_threads() == threads_.size();
    }
    std::size_t quiet_threads() const { return finished_threads_.load(); }

    int finish_report() {
        result_.opt = opt_;
        result_.totals = totals();
        for (const auto& s : shards_) {
            result_.tally += s->tally();
            result_.seq_holes += s->seq_holes();
            result_.connections_failed += s->failed_agents();
            result_.ack.merge(s->ack_latency());
            result_.delivery.merge(s->delivery_latency());
            for (const auto& [what, n] : s->notes()) {
                result_.notes[what] += n;
            }
        }
        const verdict v = judge(result_);
        std::fputs(summary_text(result_, v).c_str(), stderr);
        if (!opt_.report_json.empty()) {
            std::ofstream out(opt_.report_json);
            out << boost::json::serialize(to_json(result_, v)) << "\n";
            if (!out) {
                std::fprintf(stderr, "confide-loadgen: cannot write %s\n",
                             opt_.report_json.c_str());
                return 4;
            }
        }
        if (thread_failed_) {
            return 4;
        }
        return v.exit_code;
    }

    options opt_;
    run_clock clock_;
    ws::connect_options target_;
    std::vector<asio::ip::address> sources_;
    std::vector<std::unique_ptr<shard>> shards_;
    std::vector<std::thread> threads_;
    std::atomic<bool> thread_failed_{false};
    std::atomic<std::size_t> finished_threads_{0};
    run_result result_;
    double next_progress_s_ = 1.0;
};

}  // namespace
}  // namespace confide::loadgen

int main(int argc, char** argv) {
    using namespace confide::loadgen;
    std::signal(SIGPIPE, SIG_IGN);
    options opt;
    try {
        opt = parse_options(argc, argv);
    } catch (const options_error& e) {
        std::cerr << "confide-loadgen: " << e.what() << "\n(see confide-loadgen --help)\n";
        return 2;
    }
    if (opt.help_requested) {
        std::cout << usage_text();
        return 0;
    }
    try {
        controller c(std::move(opt));
        return c.run();
    } catch (const std::exception& e) {
        std::cerr << "confide-loadgen: " << e.what() << "\n";
        return 4;
    }
}

#include "helpers.hpp"

#include "store/redis/connection.hpp"

#include <gtest/gtest.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace confide::store::redis {
namespace {

using namespace test_helpers;
using boost::system::error_code;

class connection_test : public ::testing::Test {
protected:
    io_threads io_{2};
    test::redis_server redis_;
    std::shared_ptr<counter> connected_ = std::make_shared<counter>();

    std::shared_ptr<connection> connect(config cfg) {
        auto conn = start_connection(io_.get(), std::move(cfg), connected_);
        EXPECT_TRUE(connected_->wait_for(1, 10s)) << "never connected";
        return conn;
    }
    std::shared_ptr<connection> connect() { return connect(test_config(redis_)); }
};

TEST_F(connection_test, runs_basic_commands) {
    auto conn = connect();
    ASSERT_TRUE(conn->is_connected());

    auto [ec, r] = exec(*conn, {"SET", "k", "v"});
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.type, reply::kind::status);
    EXPECT_EQ(r.str, "OK");

    std::tie(ec, r) = exec(*conn, {"GET", "k"});
    EXPECT_FALSE(ec);
    EXPECT_EQ(r.type, reply::kind::string);
    EXPECT_EQ(r.str, "v");

    std::tie(ec, r) = exec(*conn, {"GET", "missing"});
    EXPECT_FALSE(ec);
    EXPECT_TRUE(r.is_nil());

    std::tie(ec, r) = exec(*conn, {"SET", "empty", ""});
    std::tie(ec, r) = exec(*conn, {"GET", "empty"});
    EXPECT_TRUE(r.is_string());
    EXPECT_EQ(r.str, "");

    std::tie(ec, r) = exec(*conn, {"INCRBY", "n", "-42"});
    EXPECT_FALSE(ec);
    EXPECT_TRUE(r.is_integer());
    EXPECT_EQ(r.integer, -42);

    std::tie(ec, r) = exec(*conn, {"RPUSH", "list", "a", "b", "c"});
    EXPECT_EQ(r.integer, 3);
    std::tie(ec, r) = exec(*conn, {"LRANGE", "list", "0", "-1"});
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.elements.size(), 3u);
    EXPECT_EQ(r.elements[0].str, "a");
    EXPECT_EQ(r.elements[2].str, "c");

    std::tie(ec, r) = exec(*conn, {"EVAL", "return {1, {'x', false}, 'y'}", "0"});
    EXPECT_FALSE(ec) << r.str;
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.elements.size(), 3u);
    EXPECT_EQ(r.elements[0].integer, 1);
    ASSERT_TRUE(r.elements[1].is_array());
    ASSERT_EQ(r.elements[1].elements.size(), 2u);
    EXPECT_EQ(r.elements[1].elements[0].str, "x");
    EXPECT_TRUE(r.elements[1].elements[1].is_nil());
    EXPECT_EQ(r.elements[2].str, "y");
}

TEST_F(connection_test, is_binary_safe) {
    auto conn = connect();
    const std::string key("k\0ey\r\n", 6);
    const std::string value("a\0b\r\n%s\xff\0", 9);
    auto [ec, r] = exec(*conn, {"SET", key, value});
    ASSERT_FALSE(ec) << ec.message();
    std::tie(ec, r) = exec(*conn, {"GET", key});
    ASSERT_FALSE(ec);
    EXPECT_EQ(r.str, value);
    EXPECT_EQ(r.str.size(), 9u);
    EXPECT_EQ(redis_.command({"STRLEN", key}), "9");
}

TEST_F(connection_test, error_reply_is_server_error) {
    auto conn = connect();
    exec(*conn, {"SET", "text", "abc"});
    auto [ec, r] = exec(*conn, {"INCR", "text"});
    EXPECT_EQ(ec, errc::server_error);
    EXPECT_TRUE(r.is_error());
    EXPECT_TRUE(r.str.starts_with("ERR")) << r.str;

    std::tie(ec, r) = exec(*conn, {"NO_SUCH_COMMAND", "x"});
    EXPECT_EQ(ec, errc::server_error);
    EXPECT_NE(r.str.find("unknown command"), std::string::npos) << r.str;

    // The connection goes on.
    std::tie(ec, r) = exec(*conn, {"PING"});
    EXPECT_FALSE(ec);
    EXPECT_EQ(r.str, "PONG");
    EXPECT_EQ(make_error_code(errc::server_error).category().name(), std::string("confide.redis"));
}

TEST_F(connection_test, not_connected_before_start) {
    auto conn = connection::create(io_.get(), test_config(redis_));
    EXPECT_FALSE(conn->is_connected());
    auto [ec, r] = exec(*conn, {"PING"});
    EXPECT_EQ(ec, errc::not_connected);
}

TEST_F(connection_test, pipelines_commands_from_many_threads_in_order) {
    auto conn = connect();
    constexpr int threads = 4;
    constexpr int per_thread = 2000;
    struct state {
        std::vector<std::vector<long long>> seen = std::vector<std::vector<long long>>(threads);
        std::atomic<int> errors{0};
        counter done;
    };
    auto st = std::make_shared<state>();
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
        senders.emplace_back([conn, st, t] {
            const std::string key = "seq:" + std::to_string(t);
            for (int i = 0; i < per_thread; ++i) {
                // Completions run on the connection's strand (the default executor), one at a
                // time: `seen` needs no lock of its own.
                conn->async_exec({"INCR", key}, [st, t](error_code ec, reply r) {
                    if (ec) {
                        ++st->errors;
                    }
                    st->seen[static_cast<std::size_t>(t)].push_back(r.integer);
                    st->done.bump();
                });
            }
        });
    }
    for (auto& s : senders) {
        s.join();
    }
    ASSERT_TRUE(st->done.wait_for(threads * per_thread, 30s))
        << st->done.value() << " of " << threads * per_thread << " completed";
    EXPECT_EQ(st->errors.load(), 0);
    // The counter's mutex orders the strand's writes before these reads.
    for (int t = 0; t < threads; ++t) {
        const auto& v = st->seen[static_cast<std::size_t>(t)];
        ASSERT_EQ(v.size(), static_cast<std::size_t>(per_thread));
        for (int i = 0; i < per_thread; ++i) {
            ASSERT_EQ(v[static_cast<std::size_t>(i)], i + 1) << "thread " << t << " reply " << i;
        }
    }
}

TEST_F(connection_test, completes_on_the_handlers_executor) {
    auto conn = connect();
    auto strand = asio::make_strand(io_.get());
    auto on_strand = std::make_shared<std::promise<bool>>();
    auto f = on_strand->get_future();
    conn->async_exec({"PING"},
                     asio::bind_executor(strand, [strand, on_strand](error_code, const reply&) {
                         on_strand->set_value(strand.running_in_this_thread());
                     }));
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(f.get());
}

TEST_F(connection_test, works_from_coroutines) {
    auto conn = connect();
    auto body = [](std::shared_ptr<connection> c) -> awaitable<std::string> {
        std::vector<std::string> set{"SET", "co", "routine"};
        auto [ec, r] = co_await c->async_exec(std::move(set), use_nothrow);
        if (ec) {
            co_return "error: " + ec.message();
        }
        std::vector<std::string> get_cmd{"GET", "co"};
        std::tie(ec, r) = co_await c->async_exec(std::move(get_cmd), use_nothrow);
        co_return r.str;
    };
    auto f = asio::co_spawn(io_.get(), body(conn), asio::use_future);
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(f.get(), "routine");
}

TEST_F(connection_test, in_flight_fail_when_redis_dies_then_reconnects) {
    auto cfg = test_config(redis_);
    cfg.command_timeout = 20s;  // the blocked command must not time out first
    auto conn = connect(cfg);
    exec(*conn, {"SET", "before", "crash"});

    auto blocked = exec_async(*conn, {"BLPOP", "nothing", "0"});
    auto queued = exec_async(*conn, {"GET", "before"});  // behind the blocked one
    redis_.kill();
    EXPECT_EQ(std::get<0>(get(blocked)), errc::disconnected);
    EXPECT_EQ(std::get<0>(get(queued)), errc::disconnected);

    auto [ec, r] = exec(*conn, {"PING"});
    EXPECT_EQ(ec, errc::not_connected);
    EXPECT_FALSE(conn->is_connected());

    redis_.start();
    ASSERT_TRUE(connected_->wait_for(2, 10s)) << "did not reconnect";
    std::tie(ec, r) = exec(*conn, {"PING"});
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.str, "PONG");
}

TEST_F(connection_test, reconnects_after_a_clean_restart) {
    auto conn = connect();
    redis_.stop();
    // Sent before or after the client noticed the close.
    auto [ec, r] = exec(*conn, {"PING"});
    EXPECT_TRUE(ec == errc::not_connected || ec == errc::disconnected) << ec.message();
    std::tie(ec, r) = exec(*conn, {"PING"});
    EXPECT_TRUE(ec == errc::not_connected || ec == errc::disconnected) << ec.message();
    redis_.start();
    ASSERT_TRUE(connected_->wait_for(2, 10s)) << "did not reconnect";
    std::tie(ec, r) = exec(*conn, {"PING"});
    EXPECT_FALSE(ec) << ec.message();
}

TEST_F(connection_test, paused_redis_times_out_then_recovers) {
    auto cfg = test_config(redis_);
    cfg.command_timeout = 500ms;
    cfg.connect_timeout = 500ms;
    auto conn = connect(cfg);

    redis_.pause();
    const auto start = std::chrono::steady_clock::now();
    auto first = exec_async(*conn, {"PING"});
    auto second = exec_async(*conn, {"PING"});
    auto [ec, r] = get(first);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(ec, errc::timeout);
    EXPECT_GE(elapsed, 450ms);
    EXPECT_LT(elapsed, 2000ms);
    EXPECT_EQ(std::get<0>(get(second)), errc::disconnected);

    // Reconnection attempts connect (the kernel accepts) but the handshake gets no answer:
    // they time out (connect_timeout) again and again.
    std::tie(ec, r) = exec(*conn, {"PING"});
    EXPECT_EQ(ec, errc::not_connected);
    EXPECT_FALSE(connected_->wait_for(2, 1500ms)) << "ready while Redis is frozen";
    std::tie(ec, r) = exec(*conn, {"PING"});
    EXPECT_EQ(ec, errc::not_connected);

    redis_.resume();
    ASSERT_TRUE(connected_->wait_for(2, 10s)) << "did not reconnect";
    std::tie(ec, r) = exec(*conn, {"PING"});
    EXPECT_FALSE(ec) << ec.message();
}

TEST_F(connection_test, an_idle_connection_checks_that_redis_answers_and_stays_up) {
    auto cfg = test_config(redis_);
    cfg.health_interval = 50ms;
    auto conn = connect(cfg);
    command_monitor monitor(redis_);
    EXPECT_TRUE(monitor.wait_for("PING", 3, 10s)) << "no health check";
    EXPECT_TRUE(conn->is_connected());
    EXPECT_EQ(connected_->value(), 1);
    EXPECT_EQ(std::get<1>(exec(*conn, {"PING"})).str, "PONG");
}

TEST_F(connection_test, an_idle_connection_notices_a_frozen_redis_and_reconnects_after_it) {
    test::tcp_proxy proxy(redis_.port());
    auto conn = connect(health_test_config(redis_, proxy));
    EXPECT_EQ(proxy.accepted(), 1u);

    redis_.pause();
    // No command is sent: only the health check can notice.
    ASSERT_TRUE(proxy.wait_accepted(2, 10s)) << "the idle connection did not notice";
    EXPECT_FALSE(conn->is_connected());
    // At once, instead of after a command deadline.
    EXPECT_EQ(std::get<0>(exec(*conn, {"PING"})), errc::not_connected);

    redis_.resume();
    ASSERT_TRUE(connected_->wait_for(2, 10s)) << "did not reconnect";
    auto [ec, r] = exec(*conn, {"PING"});
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.str, "PONG");
}

TEST_F(connection_test, stop_fails_pending_and_later_commands) {
    auto cfg = test_config(redis_);
    cfg.command_timeout = 20s;
    auto conn = connect(cfg);
    auto blocked = exec_async(*conn, {"BLPOP", "nothing", "0"});
    auto queued = exec_async(*conn, {"GET", "x"});
    conn->stop();
    EXPECT_EQ(std::get<0>(get(blocked)), errc::stopped);
    EXPECT_EQ(std::get<0>(get(queued)), errc::stopped);
    EXPECT_EQ(std::get<0>(exec(*conn, {"PING"})), errc::stopped);
    EXPECT_FALSE(conn->is_connected());
    conn->start();  // no effect after stop()
    EXPECT_EQ(std::get<0>(exec(*conn, {"PING"})), errc::stopped);
}

TEST_F(connection_test, destroying_it_completes_pending_commands) {
    auto cfg = test_config(redis_);
    cfg.command_timeout = 20s;
    auto conn = connect(cfg);
    auto blocked = exec_async(*conn, {"BLPOP", "nothing", "0"});
    conn.reset();
    EXPECT_EQ(std::get<0>(get(blocked)), errc::stopped);
}

TEST_F(connection_test, authenticates_with_a_password) {
    test::redis_server_options opts;
    opts.appendonly = false;
    opts.password = "s3cret";
    test::redis_server secured(opts);
    auto cfg = test_config(secured);
    cfg.password = "s3cret";
    auto connected = std::make_shared<counter>();
    auto conn = start_connection(io_.get(), cfg, connected);
    ASSERT_TRUE(connected->wait_for(1, 10s));
    auto [ec, r] = exec(*conn, {"SET", "a", "b"});
    EXPECT_FALSE(ec) << r.str;

    auto bad_cfg = test_config(secured);
    bad_cfg.password = "wrong";
    auto bad_connected = std::make_shared<counter>();
    auto bad = start_connection(io_.get(), bad_cfg, bad_connected);
    EXPECT_FALSE(bad_connected->wait_for(1, 300ms));
    EXPECT_EQ(std::get<0>(exec(*bad, {"PING"})), errc::not_connected);
}

// hiredis reads at most 16 KiB per readiness event: a reply many times that size, and pipelined
// big replies that share reads, come out whole and in order.
TEST_F(connection_test, replies_larger_than_a_read_and_many_in_one_read_arrive_whole) {
    auto conn = connect();
    std::string big(200 * 1024, 'x');
    for (std::size_t i = 0; i < big.size(); i += 7) {
        big[i] = static_cast<char>('a' + i % 26);
    }
    ASSERT_FALSE(std::get<0>(exec(*conn, {"SET", "big", big})));
    auto [ec, r] = exec(*conn, {"GET", "big"});
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(r.str.size(), big.size());
    EXPECT_TRUE(r.str == big);

    // Pipelined big replies: several of them, and the end of one with the start of the next,
    // share a read.
    constexpr int n = 20;
    struct state {
        std::vector<std::size_t> sizes;
        counter done;
    };
    auto st = std::make_shared<state>();
    for (int i = 0; i < n; ++i) {
        conn->async_exec({"GETRANGE", "big", "0", std::to_string(9'000 * (i + 1))},
                         [st](const error_code& e, const reply& rep) {
                             // Completions run on the connection's strand, one at a time.
                             st->sizes.push_back(e ? 0 : rep.str.size());
                             st->done.bump();
                         });
    }
    ASSERT_TRUE(st->done.wait_for(n, 10s)) << st->done.value() << " of " << n;
    ASSERT_EQ(st->sizes.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(st->sizes[static_cast<std::size_t>(i)],
                  9'000u * static_cast<unsigned>(i + 1) + 1);
    }
}

TEST_F(connection_test, connects_over_a_unix_socket) {
    test::redis_server_options opts;
    opts.appendonly = false;
    opts.unix_socket = true;
    test::redis_server local(opts);
    config cfg = test_config(local);
    cfg.unix_socket = local.unix_socket();
    cfg.port = 1;  // unused
    auto connected = std::make_shared<counter>();
    auto conn = start_connection(io_.get(), cfg, connected);
    ASSERT_TRUE(connected->wait_for(1, 10s));
    EXPECT_EQ(std::get<1>(exec(*conn, {"PING"})).str, "PONG");
}

TEST_F(connection_test, resolves_a_host_name) {
    auto cfg = test_config(redis_);
    cfg.host = "localhost";  // may resolve to ::1 first: the next attempt tries 127.0.0.1
    auto conn = connect(cfg);
    EXPECT_EQ(std::get<1>(exec(*conn, {"PING"})).str, "PONG");
}

TEST_F(connection_test, never_connects_to_a_closed_port_and_stops_cleanly) {
    auto cfg = test_config(redis_);
    redis_.stop();
    auto connected = std::make_shared<counter>();
    auto conn = start_connection(io_.get(), cfg, connected);
    EXPECT_FALSE(connected->wait_for(1, 300ms));
    EXPECT_EQ(std::get<0>(exec(*conn, {"PING"})), errc::not_connected);
    conn->stop();
    EXPECT_EQ(std::get<0>(exec(*conn, {"PING"})), errc::stopped);
}

}  // namespace
}  // namespace confide::store::redis

// The listener: bound endpoint, the connection limit, and the shutdown drain.

#include "net/connection_registry.hpp"
#include "net_fixture.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

#include <boost/system/system_error.hpp>

#include <string>

namespace confide::net::test {
namespace {

using kind = received::kind;

TEST_F(net_test, BindsToAFreePortWhenAskedForPortZero) {
    start();
    EXPECT_EQ(server().address, "127.0.0.1");
    EXPECT_NE(server().port, 0);
    EXPECT_EQ(server().to_string(), "127.0.0.1:" + std::to_string(server().port));
}

TEST(listener, ThrowsNamingTheAddressWhenItCannotBind) {
    asio::io_context ioc;
    listener_options lo;
    lo.listen = endpoint{"256.1.1.1", 0};
    try {
        listener l(ioc.get_executor(), lo, {}, nullptr);
        FAIL() << "no exception";
    } catch (const boost::system::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("256.1.1.1"), std::string::npos) << e.what();
    }
}

TEST(endpoint, FormatsIpv6InBrackets) {
    EXPECT_EQ((endpoint{"::1", 8080}.to_string()), "[::1]:8080");
}

TEST_F(net_test, ConnectionsBeyondTheLimitAreClosedAtOnce) {
    start(test_session_options(), 2);
    ws_client a;
    ws_client b;
    ASSERT_TRUE(a.open(server()));
    ASSERT_TRUE(b.open(server()));
    tcp_probe refused;
    ASSERT_TRUE(refused.connect(server()));  // the kernel accepts; the server closes
    EXPECT_TRUE(refused.wait_for_eof());
    EXPECT_EQ(listener_->connection_count(), 2u);
    // A place frees up when a connection ends.
    ASSERT_TRUE(a.close());
    ASSERT_TRUE(eventually([&] { return listener_->connection_count() == 1; }));
    ws_client c;
    EXPECT_TRUE(c.open(server()));
}

TEST_F(net_test, ShutdownClosesEverySessionWith1001AndWaitsForThem) {
    start();
    ws_client a;
    ws_client b;
    ASSERT_TRUE(a.open(server()));
    ASSERT_TRUE(b.open(server()));
    ASSERT_TRUE(rec_->wait([&] { return rec_->created == 2; }));

    std::promise<std::optional<bool>> drained;
    std::thread drain([&] { drained.set_value(shutdown(5s)); });
    for (auto* c : {&a, &b}) {
        // The protocol's GoAwayPush, then the close with the same code.
        auto bye = c->read();
        ASSERT_EQ(bye.what, kind::binary) << bye.error;
        EXPECT_EQ(go_away_code(bye.data), 1001u);
        auto r = c->read();
        ASSERT_EQ(r.what, kind::closed) << r.error;
        EXPECT_EQ(r.code, 1001);
        EXPECT_EQ(r.reason, "server shutting down");
    }
    drain.join();
    EXPECT_EQ(drained.get_future().get(), std::optional<bool>(true));
    EXPECT_EQ(listener_->connection_count(), 0u);
    {
        std::lock_guard lock(rec_->mutex);
        EXPECT_EQ(rec_->closed, 2);
    }
    // The acceptor is closed: nothing answers any more.
    ws_client late;
    EXPECT_FALSE(late.open(server()));
}

TEST_F(net_test, ShutdownDeliversQueuedFramesBeforeTheGoingAwayClose) {
    start();
    ws_client a;
    ASSERT_TRUE(a.open(server()));
    ASSERT_TRUE(a.write_binary("flood:20:1000"));
    ASSERT_TRUE(rec_->wait([&] { return rec_->frames.size() == 1; }));
    std::promise<std::optional<bool>> drained;
    std::thread drain([&] { drained.set_value(shutdown(5s)); });
    int frames = 0;
    std::string last;
    for (;;) {
        auto r = a.read();
        if (r.what != kind::binary) {
            EXPECT_EQ(r.what, kind::closed) << r.error;
            EXPECT_EQ(r.code, 1001);
            break;
        }
        ++frames;
        last = r.data;
    }
    drain.join();
    // The 20 queued frames, then the GoAwayPush.
    EXPECT_EQ(frames, 21);
    EXPECT_EQ(go_away_code(last), 1001u);
    EXPECT_EQ(drained.get_future().get(), std::optional<bool>(true));
}

TEST_F(net_test, ShutdownReachesConnectionsStillInTheirHttpPhase) {
    start();
    tcp_probe idle;
    ASSERT_TRUE(idle.connect(server()));
    ASSERT_TRUE(eventually([&] { return listener_->connection_count() == 1; }));
    EXPECT_EQ(shutdown(5s), std::optional<bool>(true));
    EXPECT_TRUE(idle.wait_for_eof());
}

TEST_F(net_test, ShutdownReportsConnectionsLeftAtTheDeadline) {
    start();
    ws_client a;
    ASSERT_TRUE(a.open(server()));
    ASSERT_TRUE(a.write_binary("stall"));
    ASSERT_TRUE(rec_->wait([&] { return rec_->stalled; }));
    // The handler never returns from on_frame: the session cannot end by itself.
    EXPECT_EQ(shutdown(300ms), std::optional<bool>(false));
    EXPECT_EQ(listener_->connection_count(), 1u);
    listener_->abort_connections();
    rec_->release_stall();
    EXPECT_EQ(shutdown(5s), std::optional<bool>(true));
}

TEST(connection_registry, CountsPlacesAndWakesTheDrainWaiter) {
    asio::io_context ioc;
    auto registry = std::make_shared<connection_registry>(ioc.get_executor(), 2);
    auto a = registry->try_acquire();
    auto b = registry->try_acquire();
    auto c = registry->try_acquire();
    EXPECT_TRUE(a);
    EXPECT_TRUE(b);
    EXPECT_FALSE(c);
    EXPECT_EQ(registry->size(), 2u);

    std::optional<bool> result;
    asio::co_spawn(ioc, registry->wait_empty(10s),
                   [&](const std::exception_ptr&, bool r) { result = r; });
    ioc.run_for(50ms);
    EXPECT_FALSE(result.has_value());
    a = {};
    ioc.run_for(50ms);
    EXPECT_FALSE(result.has_value());
    b = {};
    ioc.restart();
    ioc.run_for(5s);
    EXPECT_EQ(result, std::optional<bool>(true));

    registry->shutdown();
    EXPECT_FALSE(registry->try_acquire());
}

TEST(connection_registry, WaitEndsAtItsDeadline) {
    asio::io_context ioc;
    auto registry = std::make_shared<connection_registry>(ioc.get_executor(), 2);
    auto a = registry->try_acquire();
    std::optional<bool> result;
    asio::co_spawn(ioc, registry->wait_empty(100ms),
                   [&](const std::exception_ptr&, bool r) { result = r; });
    ioc.run_for(5s);
    EXPECT_EQ(result, std::optional<bool>(false));
}

}  // namespace
}  // namespace confide::net::test

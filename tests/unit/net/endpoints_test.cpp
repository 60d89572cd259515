// The operator's endpoints of the HTTP phase (/readyz, /metrics) and the network layer's
// counters.

#include "metrics/metrics.hpp"
#include "net_fixture.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <string>

namespace confide::net::test {
namespace {

using kind = received::kind;

// The value of one series in the process's metrics (0 when absent).
double metric(const std::string& series) {
    std::istringstream in(metrics::registry::global().render());
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(series + " ")) {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return 0;
}

TEST_F(net_test, ReadyzFollowsTheReadinessCallback) {
    auto o = test_session_options();
    auto ready = std::make_shared<std::atomic<bool>>(false);
    o.ready = [ready] { return readiness{ready->load(), "redis is not answering"}; };
    start(o);
    auto r = tcp_probe::http_get(server(), "/readyz");
    EXPECT_EQ(r.status, 503) << r.error;
    EXPECT_EQ(r.body, "not ready: redis is not answering\n");
    ready->store(true);
    r = tcp_probe::http_get(server(), "/readyz");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "ready\n");
    // Liveness does not depend on it.
    ready->store(false);
    EXPECT_EQ(tcp_probe::http_get(server(), "/healthz").status, 200);
}

TEST_F(net_test, WithoutAReadinessCallbackReadyzIsReady) {
    start();
    EXPECT_EQ(tcp_probe::http_get(server(), "/readyz").status, 200);
}

TEST_F(net_test, MetricsServesTheGivenTextAnd404WithoutIt) {
    auto o = test_session_options();
    o.metrics_text = [] { return std::string("confide_test 1\n"); };
    start(o);
    auto r = tcp_probe::http_get(server(), "/metrics");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "confide_test 1\n");
    EXPECT_EQ(tcp_probe::http_get(server(), "/metrics?x=1").status, 200);
}

TEST_F(net_test, MetricsIs404WhenNotConfigured) {
    start();
    EXPECT_EQ(tcp_probe::http_get(server(), "/metrics").status, 404);
}

TEST_F(net_test, CountersFollowTheTraffic) {
    start();
    const double accepted = metric("confide_connections_accepted_total");
    const double in = metric("confide_frames_received_total");
    const double in_bytes = metric("confide_received_bytes_total");
    const double out = metric("confide_frames_sent_total");
    const double client_closes =
        metric("confide_websocket_closes_total{by=\"client\",code=\"1000\"}");
    const double readyz = metric("confide_http_requests_total{endpoint=\"readyz\"}");
    {
        ws_client c;
        ASSERT_TRUE(c.open(server()));
        // The server counts the WebSocket once its side of the handshake has completed, which
        // may be just after the client has read the 101.
        EXPECT_TRUE(eventually([] { return metric("confide_websocket_connections") == 1; }));
        EXPECT_EQ(metric("confide_connections"), 1);
        for (int i = 0; i < 3; ++i) {
            ASSERT_TRUE(c.write_binary("echo:abc"));
            EXPECT_EQ(c.read().data, "abc");
        }
        ASSERT_TRUE(c.close(1000));
    }
    ASSERT_TRUE(rec_->wait([&] { return rec_->closed == 1; }));
    EXPECT_EQ(tcp_probe::http_get(server(), "/readyz").status, 200);
    EXPECT_EQ(metric("confide_connections_accepted_total"), accepted + 2);
    EXPECT_EQ(metric("confide_frames_received_total"), in + 3);
    EXPECT_EQ(metric("confide_received_bytes_total"), in_bytes + 3 * 8);
    EXPECT_EQ(metric("confide_frames_sent_total"), out + 3);
    EXPECT_EQ(metric("confide_websocket_closes_total{by=\"client\",code=\"1000\"}"),
              client_closes + 1);
    EXPECT_EQ(metric("confide_http_requests_total{endpoint=\"readyz\"}"), readyz + 1);
    EXPECT_TRUE(eventually([] { return metric("confide_websocket_connections") == 0; }));
}

TEST_F(net_test, AnOverflowIsCountedWithItsClose) {
    auto o = test_session_options();
    o.max_outbound_bytes = 64 * 1024;
    start(o);
    const double overflows = metric("confide_outbound_overflows_total");
    const double closes = metric("confide_websocket_closes_total{by=\"server\",code=\"4003\"}");
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("flood:100:1024"));
    EXPECT_EQ(c.read().what, kind::binary);  // the GoAwayPush
    EXPECT_EQ(c.read().code, 4003);
    ASSERT_TRUE(rec_->wait([&] { return rec_->closed == 1; }));
    EXPECT_EQ(metric("confide_outbound_overflows_total"), overflows + 1);
    EXPECT_TRUE(eventually([&] {
        return metric("confide_websocket_closes_total{by=\"server\",code=\"4003\"}") == closes + 1;
    }));
}

}  // namespace
}  // namespace confide::net::test

// A rolling restart behind Debian's haproxy, run with deploy/haproxy.cfg itself: two real
// confide-server nodes on loopback, confide-loadgen sending through haproxy with churn over
// wss:// (haproxy ends TLS with a test certificate the load generator verifies), and each
// node drained in turn (SIGTERM) while messages flow. haproxy must see each node's /readyz turn
// 503 and take it out before the node says goodbye; every client must move to the other node;
// the load generator must find nothing lost, duplicated or reordered.

#include "ops_harness.hpp"
#include "support/local.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"
#include "support/test_pki.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <memory>
#include <regex>

namespace confide::test {
namespace {

namespace json = boost::json;

// More than haproxy's 2 failed checks 1 s apart: the node leaves the rotation before it closes
// its connections, so no client reconnects to it.
constexpr std::chrono::milliseconds drain_delay = 3s;

// A node on a fixed port (haproxy's configuration names it), so that it can be restarted where
// haproxy expects it.
class node {
public:
    node(const redis_server& redis, std::string name, std::uint16_t port)
        : redis_(redis), name_(std::move(name)), port_(port) {}

    void start() {
        std::vector<std::string> args{"--listen", "127.0.0.1:" + std::to_string(port_)};
        for (auto& a : server_args(redis_, "warn")) {
            args.push_back(std::move(a));
        }
        // --directory-open: the load generator's specialists are listed when they sign in.
        for (const char* a : {"--send-rate", "1000", "--send-burst", "1000", "--directory-open"}) {
            args.emplace_back(a);
        }
        args.insert(args.end(),
                    {"--drain-delay-ms", std::to_string(drain_delay.count()), "--node-id", name_});
        child_process::options o;
        o.name = name_;
        process_ = std::make_unique<child_process>(server_binary(), std::move(args), o);
        if (!process_->wait_for_line(std::regex("^listening on "), 30s)) {
            throw std::runtime_error(name_ + " did not start");
        }
    }
    child_process& process() { return *process_; }
    std::uint16_t port() const noexcept { return port_; }
    const std::string& name() const noexcept { return name_; }

    double sessions() {
        auto r = get(port_, "/metrics");
        return r.status == 200 ? parse_metrics(r.body)["confide_sessions"] : -1;
    }

private:
    const redis_server& redis_;
    std::string name_;
    std::uint16_t port_;
    std::unique_ptr<child_process> process_;
};

std::string text_of(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::uint64_t number(const json::value& v, std::initializer_list<const char*> path) {
    const json::value* cur = &v;
    for (const char* key : path) {
        cur = &cur->as_object().at(key);
    }
    return cur->to_number<std::uint64_t>();
}

TEST(haproxy, RollingRestartLosesNothing) {
    redis_server redis;
    temp_dir dir("confide-haproxy");
    test_pki pki;
    const auto lb_cert = pki.issue("lb", "localhost");
    {
        // haproxy wants the certificate and its key in one file.
        std::ofstream pem(dir / "lb.pem");
        pem << text_of(lb_cert.cert) << text_of(lb_cert.key);
    }

    node n1(redis, "node1", free_port());
    node n2(redis, "node2", free_port());
    n1.start();
    n2.start();

    const auto tls_port = free_port();
    const auto plain_port = free_port();
    child_process::options ho;
    ho.name = "haproxy";
    ho.env = {{"CONFIDE_LB_BIND", "127.0.0.1:" + std::to_string(tls_port)},
              {"CONFIDE_LB_HTTP_BIND", "127.0.0.1:" + std::to_string(plain_port)},
              {"CONFIDE_LB_CERT", (dir / "lb.pem").string()},
              {"CONFIDE_LB_MAXCONN", "2000"},
              {"CONFIDE_NODE1", "127.0.0.1:" + std::to_string(n1.port())},
              {"CONFIDE_NODE2", "127.0.0.1:" + std::to_string(n2.port())}};
    child_process haproxy(CONFIDE_HAPROXY, {"-db", "-f", CONFIDE_HAPROXY_CFG}, ho);
    const auto https = [&](const std::string& target) {
        http_request r;
        r.port = tls_port;
        r.target = target;
        r.ca_file = pki.ca_file().string();
        return http_get(r);
    };
    // Through haproxy, /readyz answers once haproxy listens and a node is up.
    ASSERT_TRUE(
        eventually([&] { return haproxy.exited() || https("/readyz").status == 200; }, 20s));
    ASSERT_FALSE(haproxy.exited()) << "haproxy did not start";
    // The public never sees a node's metrics; plain HTTP is only redirected to https.
    EXPECT_EQ(https("/metrics").status, 404);
    const auto plain = get(plain_port, "/readyz");
    EXPECT_EQ(plain.status, 301);
    EXPECT_EQ(plain.header("Location").rfind("https://", 0), 0u) << plain.headers;

    const auto report = dir / "report.json";
    child_process::options lo;
    lo.name = "loadgen";
    child_process loadgen(CONFIDE_LOADGEN_PATH,
                          {CONFIDE_LOADGEN_PATH,
                           "--url",
                           "wss://localhost:" + std::to_string(tls_port) + "/",
                           "--ca-file",
                           pki.ca_file().string(),
                           "--secret",
                           test_secret(),
                           "--key-id",
                           "test",
                           "--clients",
                           "20",
                           "--specialists",
                           "20",
                           "--rate",
                           "150",
                           "--window",
                           "4",
                           "--duration",
                           "24",
                           "--ramp-up",
                           "1",
                           "--churn",
                           "0.05",
                           "--connect-retries",
                           "20",
                           "--drain",
                           "30",
                           "--report-json",
                           report.string(),
                           "--quiet"},
                          lo);
    constexpr double everybody = 40;
    // leastconn spreads the connections over both nodes.
    ASSERT_TRUE(eventually([&] { return n1.sessions() + n2.sessions() >= everybody - 2; }, 20s));
    EXPECT_GT(n1.sessions(), 0);
    EXPECT_GT(n2.sessions(), 0);

    // Drains `from` while the load runs: haproxy takes it out on its 503s before it closes
    // anything, every client ends up on `to`, and `from` exits cleanly.
    auto drain = [&](node& from, node& to) {
        const auto mark = haproxy.line_count();
        from.process().signal(SIGTERM);
        const auto t0 = std::chrono::steady_clock::now();
        const std::regex down("Server confide_nodes/" + from.name() + " is DOWN");
        ASSERT_TRUE(haproxy.wait_for_line(down, 10s, mark)) << "haproxy did not notice the drain";
        EXPECT_LT(std::chrono::steady_clock::now() - t0, drain_delay)
            << "haproxy must take the node out before it closes its connections";
        EXPECT_EQ(from.process().wait_exit(20s), 0);
        EXPECT_TRUE(eventually([&] { return to.sessions() == everybody; }, 15s))
            << "every client moves to " << to.name() << " (it holds " << to.sessions() << ")";
    };
    drain(n1, n2);
    // The upgraded node comes back where haproxy expects it; haproxy checks it up again.
    const auto mark = haproxy.line_count();
    n1.start();
    ASSERT_TRUE(haproxy.wait_for_line(std::regex("Server confide_nodes/node1 is UP"), 15s, mark));
    drain(n2, n1);

    ASSERT_EQ(loadgen.wait_exit(120s), 0);
    const auto r = json::parse(text_of(report));
    for (const char* field :
         {"lost", "lost_echo", "duplicated", "reordered", "seq_duplicates", "seq_holes",
          "corrupted", "misrouted", "unknown", "sync_resets", "unacked", "failed"}) {
        EXPECT_EQ(number(r, {"messages", field}), 0U) << field;
    }
    EXPECT_TRUE(r.at("messages").at("drained").as_bool());
    EXPECT_TRUE(r.at("verdict").at("ok").as_bool());
    EXPECT_EQ(number(r, {"connections", "failed"}), 0U);
    EXPECT_GT(number(r, {"messages", "acked"}), 1000U);
    // The drains did close connections (with 1001), and the clients came back.
    const auto& closes = r.at("connections").at("server_close_codes").as_object();
    ASSERT_TRUE(closes.contains("1001")) << json::serialize(closes);
    EXPECT_GE(closes.at("1001").to_number<std::uint64_t>(), 20U);
}

}  // namespace
}  // namespace confide::test

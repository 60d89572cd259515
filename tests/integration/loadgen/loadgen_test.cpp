// confide-loadgen against a real confide-server and a real redis-server, for a few seconds:
// every message must be acked, delivered once, in order, intact.

#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"
#include "support/test_pki.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace confide::test;
using namespace std::chrono_literals;

// The server's log at debug level would cost more than the load itself: run it at "warn", with
// per-user send limits above what the runs ask for.
class server_under_load {
public:
    explicit server_under_load(const redis_server& redis, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"--listen", "127.0.0.1:0"};
        args.insert(args.end(), extra.begin(), extra.end());
        for (auto& a : server_args(redis, "warn")) {
            args.push_back(std::move(a));
        }
        for (const char* a : {"--send-rate", "1000", "--send-burst", "1000", "--directory-open"}) {
            args.emplace_back(a);
        }
        child_process::options opts;
        opts.name = "server";
        process_ = std::make_unique<child_process>(server_binary(), std::move(args), opts);
        static const std::regex listening(R"(^listening on [0-9.]+:([0-9]+)$)");
        auto line = process_->wait_for_line(listening, 30s);
        if (!line) {
            throw std::runtime_error("confide-server did not start (no 'listening on' line)");
        }
        std::smatch m;
        std::regex_search(*line, m, listening);
        port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    }

    std::uint16_t port() const noexcept { return port_; }
    bool running() const { return !process_->exited(); }

private:
    std::unique_ptr<child_process> process_;
    std::uint16_t port_ = 0;
};

class loadgen_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        redis_ = new redis_server();
        server_ = new server_under_load(*redis_);
    }
    static void TearDownTestSuite() {
        delete server_;
        delete redis_;
        server_ = nullptr;
        redis_ = nullptr;
    }

    static std::string plain_url() { return "ws://127.0.0.1:" + std::to_string(server_->port()); }

    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("confide-loadgen-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    // Runs confide-loadgen with `args` (plus the URL, secret and report), returns its exit code
    // and the parsed report.
    std::pair<int, json::value> run(std::vector<std::string> args,
                                    std::chrono::seconds timeout = 120s) {
        return run_at(plain_url(), std::move(args), timeout);
    }

    // run() against `url`.
    std::pair<int, json::value> run_at(const std::string& url, std::vector<std::string> args,
                                       std::chrono::seconds timeout = 120s) {
        const auto report = (dir_ / "report.json").string();
        std::vector<std::string> argv{
            CONFIDE_LOADGEN_PATH, "--url", url, "--secret", test_secret(), "--key-id", "test",
            "--report-json",      report};
        argv.insert(argv.end(), args.begin(), args.end());
        child_process::options opts;
        opts.name = "loadgen";
        child_process lg(CONFIDE_LOADGEN_PATH, std::move(argv), opts);
        const auto code = lg.wait_exit(timeout);
        EXPECT_TRUE(code.has_value()) << "confide-loadgen did not finish in time";
        std::ifstream in(report);
        std::stringstream text;
        text << in.rdbuf();
        json::value v;
        if (!text.str().empty()) {
            v = json::parse(text.str());
        }
        return {code.value_or(-1), v};
    }

    static std::uint64_t number(const json::value& v, std::initializer_list<const char*> path) {
        const json::value* cur = &v;
        for (const char* key : path) {
            cur = &cur->as_object().at(key);
        }
        return cur->to_number<std::uint64_t>();
    }

    static void expect_clean(const json::value& r) {
        ASSERT_TRUE(r.is_object()) << "no report";
        for (const char* field :
             {"lost", "lost_echo", "duplicated", "reordered", "seq_duplicates", "seq_holes",
              "corrupted", "misrouted", "unknown", "sync_resets", "unacked", "failed"}) {
            EXPECT_EQ(number(r, {"messages", field}), 0U) << field;
        }
        EXPECT_TRUE(r.at("messages").at("drained").as_bool());
        EXPECT_TRUE(r.at("verdict").at("ok").as_bool());
        EXPECT_EQ(number(r, {"connections", "failed"}), 0U);
    }

    static redis_server* redis_;
    static server_under_load* server_;
    fs::path dir_;
};

redis_server* loadgen_test::redis_ = nullptr;
server_under_load* loadgen_test::server_ = nullptr;

TEST_F(loadgen_test, short_run_loses_nothing) {
    const auto [code, r] =
        run({"--clients", "20", "--specialists", "5", "--threads", "2", "--rate", "200", "--window",
             "4", "--duration", "4", "--ramp-up", "1", "--drain", "15", "--quiet"});
    EXPECT_EQ(code, 0);
    expect_clean(r);
    EXPECT_EQ(number(r, {"connections", "established"}), 25U);
    EXPECT_GT(number(r, {"messages", "acked"}), 300U);
    EXPECT_EQ(number(r, {"messages", "delivered"}), number(r, {"messages", "acked"}));
    EXPECT_GT(number(r, {"latency", "ack", "count"}), 0U);
    EXPECT_GT(number(r, {"latency", "delivery", "count"}), 0U);
    // skip_own_echo (the default): most own messages come back in their SendReply, and each
    // reached its sender's device exactly once, in order, by the one way or the other.
    EXPECT_GT(number(r, {"frames", "echo_replies"}), 0U);
    EXPECT_EQ(number(r, {"messages", "echoed"}), number(r, {"messages", "acked"}));
    EXPECT_TRUE(server_->running());
}

TEST_F(loadgen_test, a_short_run_over_wss_with_churn_loses_nothing) {
    test_pki pki;
    const auto files = pki.issue("server", "confide-test");
    server_under_load tls(*redis_,
                          {"--tls-cert", files.cert.string(), "--tls-key", files.key.string()});
    const auto [code, r] =
        run_at("wss://localhost:" + std::to_string(tls.port()),
               {"--ca-file", pki.ca_file().string(), "--clients", "10", "--specialists", "5",
                "--rate", "100", "--window", "4", "--duration", "4", "--ramp-up", "1", "--churn",
                "0.3", "--drain", "15", "--quiet"});
    EXPECT_EQ(code, 0);
    expect_clean(r);
    EXPECT_EQ(number(r, {"connections", "established"}), 15U);
    EXPECT_GT(number(r, {"connections", "reconnects"}), 0U) << "churn: TLS reconnects";
    EXPECT_GT(number(r, {"messages", "acked"}), 100U);
    EXPECT_EQ(number(r, {"messages", "delivered"}), number(r, {"messages", "acked"}));

    // Without the CA file the system's CAs decide: not one connection, and the report says why.
    const auto [refused, rr] =
        run_at("wss://localhost:" + std::to_string(tls.port()),
               {"--clients", "1", "--specialists", "1", "--duration", "2", "--ramp-up", "0",
                "--connect-retries", "0", "--drain", "1", "--quiet"});
    EXPECT_NE(refused, 0);
    EXPECT_EQ(number(rr, {"connections", "established"}), 0U);
    EXPECT_NE(json::serialize(rr).find("TLS certificate not trusted"), std::string::npos)
        << json::serialize(rr);
}

TEST_F(loadgen_test, without_echo_suppression_every_own_message_is_pushed_back) {
    const auto [code, r] = run({"--clients", "10", "--specialists", "5", "--rate", "200",
                                "--window", "4", "--duration", "3", "--ramp-up", "1", "--drain",
                                "15", "--skip-own-echo", "0", "--quiet"});
    EXPECT_EQ(code, 0);
    expect_clean(r);
    EXPECT_EQ(number(r, {"frames", "echo_replies"}), 0U);
    EXPECT_GT(number(r, {"messages", "acked"}), 200U);
    EXPECT_EQ(number(r, {"messages", "echoed"}), number(r, {"messages", "acked"}));
}

TEST_F(loadgen_test, as_fast_as_allowed_with_a_message_bound) {
    const auto [code, r] =
        run({"--clients", "10", "--specialists", "10", "--window", "8", "--messages-per-connection",
             "50", "--duration", "30", "--ramp-up", "0", "--drain", "15", "--quiet"});
    EXPECT_EQ(code, 0);
    expect_clean(r);
    EXPECT_EQ(number(r, {"messages", "acked"}), 20U * 50U);
    EXPECT_EQ(number(r, {"messages", "delivered"}), 20U * 50U);
}

TEST_F(loadgen_test, churn_resumes_from_the_cursor_without_loss) {
    const auto [code, r] =
        run({"--clients", "10", "--specialists", "10", "--rate", "200", "--window", "4",
             "--duration", "6", "--ramp-up", "1", "--churn", "0.3", "--drain", "20", "--quiet"});
    EXPECT_EQ(code, 0);
    expect_clean(r);
    EXPECT_GT(number(r, {"connections", "churn_drops"}), 0U) << "the run must have dropped some";
    EXPECT_GT(number(r, {"connections", "reconnects"}), 0U);
    EXPECT_GT(number(r, {"messages", "acked"}), 500U);
}

TEST_F(loadgen_test, backlog_drains_to_an_offline_specialist) {
    const auto [code, r] = run({"--clients", "10", "--specialists", "1", "--backlog",
                                "--messages-per-connection", "50", "--window", "8", "--duration",
                                "30", "--ramp-up", "0", "--drain", "20", "--quiet"});
    EXPECT_EQ(code, 0);
    expect_clean(r);
    EXPECT_EQ(number(r, {"backlog", "messages"}), 500U);
}

TEST_F(loadgen_test, connect_only_holds_connections) {
    const auto [code, r] =
        run({"--connect-only", "--clients", "100", "--specialists", "0", "--duration", "3",
             "--ramp-up", "1", "--source-addresses", "127.0.0.1,127.0.0.2", "--quiet"});
    EXPECT_EQ(code, 0);
    EXPECT_EQ(number(r, {"connections", "established"}), 100U);
    EXPECT_EQ(number(r, {"connections", "peak_live"}), 100U);
}

}  // namespace

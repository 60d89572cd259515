#pragma once
// Shared set-up of the server integration tests: one real redis-server per test suite (or, in
// integration_server_cluster, one Redis Cluster of 3 masters per test suite), real
// confide-server processes, real WebSocket clients.

#include "support/redis_backend.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>

namespace confide::test {

using auth::role;

/// What the suites of this executable run on. integration_server_cluster builds the tests that
/// must hold on a cluster too (messaging_test.cpp, two_nodes_test.cpp) with
/// CONFIDE_TEST_ON_CLUSTER: one copy of each test, two executables.
#ifdef CONFIDE_TEST_ON_CLUSTER
inline constexpr backend_kind suite_backend = backend_kind::cluster;
#else
inline constexpr backend_kind suite_backend = backend_kind::single;
#endif

/// A Redis (suite_backend) for the whole suite and one confide-server per test (started on
/// demand).
class server_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        backend_ = std::make_unique<redis_backend>(suite_backend);
        redis_ = backend_->single();
    }
    static void TearDownTestSuite() {
        redis_ = nullptr;
        backend_.reset();
    }

    /// The test's server, started with `extra_args` the first time.
    server_process& server(std::vector<std::string> extra_args = {}) {
        if (!server_) {
            // Tests send in bursts: generous rates unless the test is about rates.
            for (const auto& [flag, value] :
                 {std::pair{"--send-rate", "10000"}, std::pair{"--send-burst", "10000"},
                  std::pair{"--request-rate", "10000"}, std::pair{"--request-burst", "10000"}}) {
                if (std::find(extra_args.begin(), extra_args.end(), flag) == extra_args.end()) {
                    extra_args.insert(extra_args.end(), {flag, value});
                }
            }
            server_ = backend_->start_server(std::move(extra_args));
        }
        return *server_;
    }

    /// A user id unique in the suite's Redis.
    static std::string unique(const std::string& base) {
        static std::atomic<int> n{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        return base + "." + info->name() + "." + std::to_string(++n);
    }

    /// A user id unique in the suite's Redis, listed in the directory as a specialist (through
    /// confide-admin, as an operator would), with `extra` entry options.
    static std::string specialist(const std::string& base, std::vector<std::string> extra = {}) {
        const auto id = unique(base);
        backend_->list_specialist(id, std::move(extra));
        return id;
    }

    /// A connected, authenticated and synced client of `user` on `srv` (default: server()).
    std::unique_ptr<ws_client> login(const std::string& user, role r,
                                     const std::string& device = "dev-1",
                                     server_process* srv = nullptr) {
        auto c = (srv ? *srv : server()).connect();
        c->login(mint(user, r), device);
        return c;
    }

    static std::unique_ptr<redis_backend> backend_;
    /// The suite's redis-server, for the tests that run on one Redis only (those not built into
    /// integration_server_cluster); null on a cluster.
    static redis_server* redis_;
    std::unique_ptr<server_process> server_;
};

inline std::unique_ptr<redis_backend> server_test::backend_;
inline redis_server* server_test::redis_ = nullptr;

/// Sends and expects a SendReply; returns it.
inline v1::SendReply must_send(ws_client& c, v1::Frame req) {
    auto r = c.request(std::move(req));
    if (!r) {
        ADD_FAILURE() << "no reply to a send";
        return {};
    }
    if (!r->has_sent()) {
        ADD_FAILURE() << "send failed: " << r->error().message();
        return {};
    }
    return r->sent();
}

/// Expects an ErrorReply with `code`; returns it.
inline v1::ErrorReply must_fail(ws_client& c, v1::Frame req, v1::ErrorCode code) {
    auto r = c.request(std::move(req));
    if (!r) {
        ADD_FAILURE() << "no reply";
        return {};
    }
    if (!r->has_error()) {
        ADD_FAILURE() << "expected error " << v1::ErrorCode_Name(code) << ", got a success";
        return {};
    }
    EXPECT_EQ(r->error().code(), code) << r->error().message();
    return r->error();
}

}  // namespace confide::test

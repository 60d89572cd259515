#pragma once
// The fixture of the cluster tests: a 3-master Redis Cluster per suite, servers on it, and a
// conversation opened the way people open one (an inquiry the specialist accepts).

#include "store/keys.hpp"
#include "store/redis/cluster_topology.hpp"
#include "support/redis_cluster.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace confide::test {

class cluster_messaging : public ::testing::Test {
protected:
    static void SetUpTestSuite() { start_cluster({}); }
    static void TearDownTestSuite() { cluster_.reset(); }

    static void start_cluster(redis_cluster_options opts) {
        cluster_ = std::make_unique<redis_cluster>(opts);
    }

    /// A server on the suite's cluster, sealing with the test key file; specialists are listed
    /// at sign-in. `extra` is added to its arguments.
    static std::unique_ptr<server_process> start_server(
        const std::string& name = "server",
        std::vector<std::pair<std::string, std::string>> env = {},
        const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args{"--directory-open", "--send-rate", "10000", "--send-burst",
                                      "10000"};
        args.insert(args.end(), extra.begin(), extra.end());
        return std::make_unique<server_process>(*cluster_, std::move(args), name, std::move(env));
    }

    static std::string unique(const std::string& base) {
        static std::atomic<int> n{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = info->name();  // "Test/Param" for parameterised tests
        std::replace(name.begin(), name.end(), '/', '_');
        return base + "." + name + "." + std::to_string(++n);
    }

    /// Runs one command on the master that owns `key`'s slot.
    static std::string on_owner(const std::string& key, const std::vector<std::string>& args) {
        return cluster_->command(cluster_->owner(store::redis::key_slot(key)), args);
    }

    /// Signed in and synced: from the device's stored position, or from `after_cursor`
    /// ("0-0": the start of the user's stream; a new device otherwise starts at its end).
    static std::unique_ptr<ws_client> login(server_process& srv, const std::string& user,
                                            auth::role r, const std::string& device = "dev-1",
                                            const std::string& after_cursor = {}) {
        auto c = srv.connect();
        c->login(mint(user, r), device, true, after_cursor);
        return c;
    }

    static std::unique_ptr<redis_cluster> cluster_;
};

/// Sends `req` and expects it stored; its reply (empty after a failure).
v1::SendReply must_send(ws_client& c, v1::Frame req);

/// Sends `req` and expects it refused with `code`.
void must_fail(ws_client& c, v1::Frame req, v1::ErrorCode code);

/// Matches the event of conversation `cid` entering state `s`.
std::function<bool(const v1::Frame&)> is_state(v1::ConversationState s, const std::string& cid);

/// A conversation opened as people open one.
struct opened {
    std::string cid;
};

/// An active conversation between the signed-in `client` and `specialist` (`specialist_id`):
/// the client's inquiry (message 1, `first`), the specialist's accept. Both devices ack the
/// accept's event.
opened open_conversation(ws_client& client, ws_client& specialist, const std::string& specialist_id,
                         const std::string& msg_id, const std::string& first = "first words");

}  // namespace confide::test

// confide-server on a Redis Cluster (--redis-cluster): a conversation's life across two nodes
// (inquiry, accept, close; an inquiry that expires; an unread reminder), retention, key rotation
// and erasure, and a server killed between the per-slot steps of a send, of an inquiry, of a
// close and of an expiry (docs/design.md, "Redis Cluster"), and a failover. Real redis-server
// nodes, real servers, real sockets. Every conversation is opened the way people open one: an
// inquiry the specialist accepts. (Messaging, receipts, offline delivery, idempotent retries and
// two nodes on a cluster: the single-Redis tests themselves, integration_server_cluster.)

#include "crypto/data_key.hpp"
#include "events_until.hpp"
#include "own_echo.hpp"
#include "store/keys.hpp"
#include "store/redis/cluster_topology.hpp"
#include "support/http_get.hpp"
#include "support/key_files.hpp"
#include "support/local.hpp"
#include "support/metrics_text.hpp"
#include "support/redis_cluster.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace confide::test {
namespace {

using auth::role;
namespace keys = store::keys;

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
    static std::unique_ptr<ws_client> login(server_process& srv, const std::string& user, role r,
                                            const std::string& device = "dev-1",
                                            const std::string& after_cursor = {}) {
        auto c = srv.connect();
        c->login(mint(user, r), device, true, after_cursor);
        return c;
    }

    static std::unique_ptr<redis_cluster> cluster_;
};

std::unique_ptr<redis_cluster> cluster_messaging::cluster_;

v1::SendReply must_send(ws_client& c, v1::Frame req) {
    auto r = c.request(std::move(req), 10s);
    if (!r || !r->has_sent()) {
        ADD_FAILURE() << "send failed: " << (r ? r->error().message() : "no reply");
        return {};
    }
    return r->sent();
}

/// Sends `req` and expects it refused with `code`.
void must_fail(ws_client& c, v1::Frame req, v1::ErrorCode code) {
    auto r = c.request(std::move(req), 10s);
    if (!r || !r->has_error()) {
        ADD_FAILURE() << "not refused: " << (r ? r->DebugString() : "no reply");
        return;
    }
    EXPECT_EQ(r->error().code(), code) << r->error().message();
}

std::function<bool(const v1::Frame&)> is_state(v1::ConversationState s, const std::string& cid) {
    return [s, cid](const v1::Frame& f) {
        return f.has_event() && f.event().has_conversation() &&
               f.event().conversation().state() == s && f.event().conversation().id() == cid;
    };
}

/// A conversation opened as people open one.
struct opened {
    std::string cid;
};

/// An active conversation between the signed-in `client` and `specialist` (`specialist_id`):
/// the client's inquiry (message 1, `first`), the specialist's accept. Both devices ack the
/// accept's event.
opened open_conversation(ws_client& client, ws_client& specialist, const std::string& specialist_id,
                         const std::string& msg_id, const std::string& first = "first words") {
    opened out;
    out.cid = must_send(client, start_inquiry(specialist_id, msg_id, first)).conversation_id();
    auto accepted = specialist.request(update(out.cid, v1::ACCEPT), 10s);
    if (!accepted || !accepted->has_conversation()) {
        ADD_FAILURE() << "accept failed: " << (accepted ? accepted->DebugString() : "no reply");
        return out;
    }
    const auto is_active = is_state(v1::ACTIVE, out.cid);
    for (ws_client* c : {&client, &specialist}) {
        // Everything before it is consumed too (wait_for would leave it for the test).
        auto active = c->next(10s);
        while (active && !is_active(*active)) {
            active = c->next(10s);
        }
        if (!active) {
            ADD_FAILURE() << "the accept's event never came";
            return out;
        }
        c->send(ack(active->event().cursor()));
    }
    return out;
}

// The whole life of a conversation on a cluster: each step is the cluster's per-slot steps
// (the inquiry's, the accept's and the close's), and both parties hear of each.
TEST_F(cluster_messaging, AnInquiryIsAcceptedAnsweredAndClosed) {
    auto a = start_server("node-a");
    auto b = start_server("node-b");
    const auto alice = unique("alice"), bob = unique("bob");
    auto specialist = login(*b, bob, role::specialist);
    auto client = login(*a, alice, role::client);

    auto inquiry = must_send(*client, start_inquiry(bob, "q1", "I need help", true));
    EXPECT_EQ(inquiry.seq(), 1u);
    const auto& cid = inquiry.conversation_id();
    auto created = specialist->wait_for(is_state(v1::INQUIRY, cid), 10s);
    ASSERT_TRUE(created);
    EXPECT_EQ(created->event().conversation().client_id(), alice);
    EXPECT_TRUE(created->event().conversation().free_consultation());
    ASSERT_TRUE(specialist->wait_for(is_message_event("I need help"), 10s));
    // A retry of the inquiry finds it.
    auto again = must_send(*client, start_inquiry(bob, "q1", "I need help", true));
    EXPECT_TRUE(again.duplicate());
    EXPECT_EQ(again.conversation_id(), cid);
    // Among the specialist's conversations, an inquiry with one unread message.
    auto list = specialist->request(list_conversations(), 10s);
    ASSERT_TRUE(list && list->has_conversations());
    ASSERT_GE(list->conversations().conversations_size(), 1);
    EXPECT_EQ(list->conversations().conversations(0).id(), cid);
    EXPECT_EQ(list->conversations().conversations(0).state(), v1::INQUIRY);
    EXPECT_EQ(list->conversations().conversations(0).unread_count(), 1u);

    auto accepted = specialist->request(update(cid, v1::ACCEPT), 10s);
    ASSERT_TRUE(accepted && accepted->has_conversation()) << accepted->DebugString();
    EXPECT_EQ(accepted->conversation().conversation().state(), v1::ACTIVE);
    ASSERT_TRUE(client->wait_for(is_state(v1::ACTIVE, cid), 10s));
    auto answer = must_send(*specialist, send_message(cid, "r1", "I am here"));
    EXPECT_EQ(answer.seq(), 2u);
    ASSERT_TRUE(client->wait_for(is_message_event("I am here"), 10s));
    // Accepting again is idempotent; declining an accepted conversation is not allowed.
    auto twice = specialist->request(update(cid, v1::ACCEPT), 10s);
    ASSERT_TRUE(twice && twice->has_conversation());
    must_fail(*specialist, update(cid, v1::DECLINE), v1::FAILED_PRECONDITION);

    auto closed = client->request(update(cid, v1::CLOSE), 10s);
    ASSERT_TRUE(closed && closed->has_conversation());
    EXPECT_EQ(closed->conversation().conversation().state(), v1::CLOSED);
    ASSERT_TRUE(specialist->wait_for(is_state(v1::CLOSED, cid), 10s));
    must_fail(*client, send_message(cid, "late", "anyone?"), v1::FAILED_PRECONDITION);
    // The client may write to the specialist again: a new conversation.
    auto next = must_send(*client, start_inquiry(bob, "q2", "me again"));
    EXPECT_NE(next.conversation_id(), cid);
    EXPECT_FALSE(next.duplicate());

    // A fresh device of each party reads the whole story from the start of its stream, once.
    for (auto [user, r] : {std::pair{alice, role::client}, std::pair{bob, role::specialist}}) {
        auto fresh = login(*a, user, r, "fresh", "0-0");
        EXPECT_EQ(events_until(*fresh, "me again"),
                  (std::vector<std::string>{"INQUIRY " + cid, "I need help", "ACTIVE " + cid,
                                            "I am here", "CLOSED " + cid,
                                            "INQUIRY " + next.conversation_id(), "me again"}))
            << user;
    }
}

// The sweepers of two nodes: the inquiry expires once, both parties are told once.
TEST_F(cluster_messaging, AnUnansweredInquiryExpiresOnce) {
    const std::vector<std::string> fast{"--inquiry-expiry-s", "1", "--workflow-interval-ms", "100"};
    auto a = start_server("node-a", {}, fast);
    auto b = start_server("node-b", {}, fast);
    const auto alice = unique("alice"), bob = unique("bob");
    auto specialist = login(*b, bob, role::specialist);
    auto client = login(*a, alice, role::client);
    const auto cid = must_send(*client, start_inquiry(bob, "q1", "anyone?")).conversation_id();
    ASSERT_TRUE(client->wait_for(is_state(v1::EXPIRED, cid), 10s));
    ASSERT_TRUE(specialist->wait_for(is_state(v1::EXPIRED, cid), 10s));
    must_fail(*client, send_message(cid, "late", "still there?"), v1::FAILED_PRECONDITION);
    // The client may write again: a new conversation (the expired one is no longer open).
    auto next = must_send(*client, start_inquiry(bob, "q2", "trying again"));
    EXPECT_NE(next.conversation_id(), cid);
    // The specialist answers the new one at once: it does not expire.
    must_send(*specialist, send_message(next.conversation_id(), "r1", "here"));
    for (auto [user, r] : {std::pair{alice, role::client}, std::pair{bob, role::specialist}}) {
        auto fresh = login(*a, user, r, "fresh", "0-0");
        EXPECT_EQ(
            events_until(*fresh, "here"),
            (std::vector<std::string>{"INQUIRY " + cid, "anyone?", "EXPIRED " + cid,
                                      "INQUIRY " + next.conversation_id(), "trying again", "here"}))
            << user;
    }
}

// An unread message's reminder reaches the mailer's stream once, with two nodes sweeping.
TEST_F(cluster_messaging, AnUnreadReminderGoesOutOnce) {
    const std::vector<std::string> fast{"--reminder-specialist-after-s", "1",
                                        "--reminder-client-after-s",     "1",
                                        "--workflow-interval-ms",        "100"};
    auto a = start_server("node-a", {}, fast);
    auto b = start_server("node-b", {}, fast);
    const auto group = unique("mailer");
    const std::string stream = keys::reminders();
    ASSERT_EQ(on_owner(stream, {"XGROUP", "CREATE", stream, group, "$", "MKSTREAM"}), "OK");
    const auto alice = unique("alice"), bob = unique("bob");
    login(*b, bob, role::specialist)->close();  // listed, then away: nothing is read
    auto client = login(*a, alice, role::client);
    const auto cid = must_send(*client, start_inquiry(bob, "q1", "secret words")).conversation_id();
    must_send(*client, send_message(cid, "m2", "more"));

    // What the mailer reads for this conversation within `wait`.
    const auto read = [&](const std::string& wait) {
        const auto r = on_owner(stream, {"XREADGROUP", "GROUP", group, "m1", "COUNT", "100",
                                         "BLOCK", wait, "STREAMS", stream, ">"});
        std::vector<std::string> out;
        static const std::regex entry(R"(\[(\d+-\d+), \[(user, [^\]]*)\]\])");
        for (std::sregex_iterator it(r.begin(), r.end(), entry), end; it != end; ++it) {
            if ((*it)[2].str().find("conversation, " + cid) != std::string::npos) {
                out.push_back((*it)[2].str());
            }
        }
        return out;
    };
    std::vector<std::string> got;
    for (int i = 0; i < 10 && got.empty(); ++i) {
        got = read("1000");
    }
    ASSERT_EQ(got.size(), 1u) << "expected one reminder";
    EXPECT_NE(got[0].find("user, " + bob), std::string::npos) << got[0];
    EXPECT_NE(got[0].find("role, specialist"), std::string::npos) << got[0];
    EXPECT_NE(got[0].find("unread, 2"), std::string::npos) << got[0];
    EXPECT_EQ(got[0].find("secret"), std::string::npos) << "a reminder must never carry a body";
    // Once: both nodes go on sweeping every 100 ms.
    EXPECT_TRUE(read("1500").empty());
}

// Retention with two nodes sweeping: each conversation's step deletes its old messages, the
// index is re-scored after it, and each message is deleted once. A cluster of its own: the
// other tests' conversations would age out too.
class cluster_retention : public cluster_messaging {
protected:
    static void SetUpTestSuite() { start_cluster({}); }
};

TEST_F(cluster_retention, OldMessagesAreDeletedOnce) {
    const std::vector<std::string> fast{"--retention-s", "1", "--workflow-interval-ms", "100"};
    auto a = start_server("node-a", {}, fast);
    auto b = start_server("node-b", {}, fast);
    const auto alice = unique("alice"), bob = unique("bob");
    login(*b, bob, role::specialist)->close();  // listed
    auto client = login(*a, alice, role::client);
    const auto cid = must_send(*client, start_inquiry(bob, "q1", "old 1")).conversation_id();
    must_send(*client, send_message(cid, "m2", "old 2"));

    // The nodes' counts of deleted messages, summed.
    const auto deleted = [&] {
        double sum = 0;
        for (const auto* srv : {a.get(), b.get()}) {
            http_request r;
            r.port = srv->port();
            r.target = "/metrics";
            sum += parse_metrics(http_get(r).body)["confide_retention_trimmed_messages_total"];
        }
        return sum;
    };
    // A second after they were written, the next sweep of either node deletes them.
    for (int i = 0; i < 200 && deleted() < 2; ++i) {
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(deleted(), 2);
    auto page = client->request(history(cid), 10s);
    ASSERT_TRUE(page && page->has_history());
    EXPECT_EQ(page->history().messages_size(), 0);
    EXPECT_TRUE(page->history().trimmed());
    // The dedupe records went with their messages; the index keeps the conversation, re-scored.
    const auto meta = keys::conversation(cid);
    EXPECT_EQ(on_owner(meta, {"HEXISTS", meta, "m:c:q1"}), "0");
    EXPECT_NE(on_owner(keys::retention(), {"ZSCORE", keys::retention(), cid}), "(nil)");
}

// Key rotation on a cluster: `confide-admin keys rotate` walks every master's conversations.
// A cluster of its own: the other tests' conversations are sealed under another key file.
class cluster_keys : public cluster_messaging {
protected:
    static void SetUpTestSuite() { start_cluster({}); }
};

TEST_F(cluster_keys, RotationRewrapsTheConversationsOfEveryMasterAndTheNewKeyAloneReadsThem) {
    const temp_dir dir("confide-rotation");
    const auto files = make_rotation_key_files(dir);
    const auto bob = unique("dr.bob");
    std::map<std::string, std::string> bodies;  // conversation -> its one message
    std::set<std::size_t> masters;
    {
        auto before = start_server("before", {}, {"--data-key-file", files.old_file});
        auto specialist = login(*before, bob, role::specialist);  // listed (directory open)
        // At least 6 conversations, on at least 2 masters (bounded: 30).
        for (int i = 0; i < 30 && (i < 6 || masters.size() < 2); ++i) {
            auto c = login(*before, unique("client"), role::client);
            const auto body = "before rotation " + std::to_string(i);
            const auto cid = must_send(*c, start_inquiry(bob, "m0", body)).conversation_id();
            bodies[cid] = body;
            masters.insert(cluster_->owner(store::redis::key_slot(keys::conversation(cid))));
        }
    }
    ASSERT_GE(masters.size(), 2u);
    auto kek_of = [](const std::string& cid) {
        // The id is a view into the wrapped form: it must outlive the inspection.
        const auto dk = on_owner(keys::conversation(cid), {"HGET", keys::conversation(cid), "dk"});
        auto info = crypto::inspect_wrapped(dk);
        return info ? std::string(info->kek_id) : "(unreadable)";
    };
    for (const auto& [cid, body] : bodies) {
        ASSERT_EQ(kek_of(cid), "k1") << cid;
    }

    const auto r = run_admin(*cluster_, {"keys", "rotate", "--data-key-file", files.both_file});
    ASSERT_EQ(r.status, 0) << r.text();
    const auto n = std::to_string(bodies.size());
    EXPECT_NE(r.text().find("conversations: " + n + "\n"), std::string::npos) << r.text();
    EXPECT_NE(r.text().find("rewrapped under k2: " + n + "\n"), std::string::npos) << r.text();
    for (const auto& [cid, body] : bodies) {
        EXPECT_EQ(kek_of(cid), "k2") << cid;
    }

    // k1 removed from the file: a server with k2 alone opens every conversation's message.
    auto after = start_server("after", {}, {"--data-key-file", files.new_file});
    auto b = login(*after, bob, role::specialist, "dev-2");
    for (const auto& [cid, body] : bodies) {
        auto page = b->request(history(cid), 10s);
        ASSERT_TRUE(page && page->has_history()) << cid;
        ASSERT_EQ(page->history().messages_size(), 1) << cid;
        EXPECT_EQ(page->history().messages(0).body(), body) << cid;
    }
}

// Erasure on a cluster (confide-admin erase, docs/design.md "Erasure on a Redis Cluster"): the
// conversation's step, then each remaining party's 'erased' event, then the schedule; a user's
// erasure closes their connections and deletes their keys on their master; every master
// rewrites its files.
TEST_F(cluster_messaging, ErasingAConversationAndAUserWorksAcrossTheSlots) {
    auto srv = start_server();
    const auto alice = unique("alice"), bob = unique("dr.bob"), carol = unique("carol");
    auto a = login(*srv, alice, role::client);
    auto b = login(*srv, bob, role::specialist);
    const auto first = open_conversation(*a, *b, bob, "q1", "to be erased").cid;
    must_send(*a, send_message(first, "m2", "also to be erased"));
    auto is_erased = [](const std::string& cid) {
        return [cid](const v1::Frame& f) {
            return f.has_event() && f.event().has_conversation() &&
                   f.event().conversation().id() == cid &&
                   f.event().conversation().state() == v1::ERASED;
        };
    };

    auto erased = run_admin(*cluster_, {"erase", "conversation", first});
    ASSERT_EQ(erased.status, 0) << erased.text();
    EXPECT_TRUE(a->wait_for(is_erased(first), 10s)) << "the client is told";
    EXPECT_TRUE(b->wait_for(is_erased(first), 10s)) << "the specialist is told";
    const auto meta = keys::conversation(first);
    EXPECT_EQ(on_owner(meta, {"HGET", meta, "state"}), "erased");
    EXPECT_EQ(on_owner(meta, {"HEXISTS", meta, "dk"}), "0") << "the data key is destroyed";
    EXPECT_EQ(on_owner(meta, {"EXISTS", keys::conversation_log(first)}), "0");
    // Running it again is harmless: nobody's stream takes a second event.
    const auto events = [&](const std::string& user) {
        return on_owner(keys::inbox(user), {"XLEN", keys::inbox(user)});
    };
    const auto before = std::pair{events(alice), events(bob)};
    auto again = run_admin(*cluster_, {"erase", "conversation", first});
    ASSERT_EQ(again.status, 0) << again.text();
    EXPECT_EQ(std::pair(events(alice), events(bob)), before);

    // A user: their connection is closed, their keys are gone, the other party is told.
    auto c = login(*srv, carol, role::client);
    const auto second = open_conversation(*c, *b, bob, "q1", "carol's words").cid;
    const auto rewrites = [&](std::size_t m) {
        const auto info = cluster_->command(m, {"INFO", "persistence"});
        const auto at = info.find("aof_rewrites:");
        return at == std::string::npos ? -1 : std::stoi(info.substr(at + 13));
    };
    std::map<std::size_t, int> rewrites_before;
    for (const auto m : cluster_->masters()) {
        rewrites_before[m] = rewrites(m);
    }
    auto gone = run_admin(*cluster_, {"erase", "user", carol});
    ASSERT_EQ(gone.status, 0) << gone.text();
    const auto closed = c->wait_closed(10s);
    ASSERT_TRUE(closed) << "carol's connection stayed open";
    EXPECT_EQ(closed->reason, "account erased");
    EXPECT_TRUE(b->wait_for(is_erased(second), 10s));
    for (const auto& key : {keys::user(carol), keys::inbox(carol), keys::conversations(carol),
                            keys::open_with(carol)}) {
        EXPECT_EQ(on_owner(key, {"EXISTS", key}), "0") << key;
    }
    EXPECT_EQ(on_owner(keys::conversation(second), {"HGET", keys::conversation(second), "state"}),
              "erased");
    // Every master rewrote its append-only file since the erasure began.
    for (const auto& [m, n] : rewrites_before) {
        EXPECT_GT(rewrites(m), n) << cluster_->address(m);
    }
}

// On a cluster the user's step publishes the wake-up before the send's last step returns, so
// the notice of the sender's own event nearly always comes before the reply: it is held and the
// reply stands for it (docs/design.md, "Echo suppression").
TEST_F(cluster_messaging, TheSendReplyStandsForTheOwnEventWhoseNoticeCameFirst) {
    auto srv = start_server();
    const auto alice = unique("alice"), bob = unique("bob");
    auto specialist = login(*srv, bob, role::specialist);
    auto laptop = login(*srv, alice, role::client, "laptop");
    auto phone = srv->connect();
    phone->login(mint(alice, role::client), "phone", false);
    sync_skipping_own_echo(*phone);
    const auto cid = open_conversation(*laptop, *specialist, bob, "q1").cid;
    // In step: the phone has every event up to the accept's.
    ASSERT_TRUE(phone->wait_for(is_state(v1::ACTIVE, cid), 10s));
    expect_own_echo_suppressed(*phone, *laptop, *specialist, cid, 8);
}

// A server killed right after the conversation's step, or as one user step completes (the two
// run at once: the other one may or may not have run), or after both, has stored the message
// but not acked it. The sender's retry with the same client_msg_id, through another
// server, repairs the missing pointers: every device of both parties gets it exactly once.
class cluster_kill_between_steps : public cluster_messaging,
                                   public ::testing::WithParamInterface<const char*> {};

TEST_P(cluster_kill_between_steps, TheSendersRetryDeliversExactlyOnceToEveryDevice) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto srv = start_server();
    auto client = login(*srv, alice, role::client, "dev-1");
    const auto cid = open_conversation(*client, *login(*srv, bob, role::specialist), bob, "q1").cid;
    must_send(*client, send_message(cid, "before", "before"));
    {
        // The fault point fires on this server's first send.
        auto doomed = start_server("doomed", {{"CONFIDE_TEST_EXIT_AT", GetParam()}});
        auto doomed_client = login(*doomed, alice, role::client, "dev-1");
        doomed_client->send(send_message(cid, "cut", "cut short"));
        // No reply: the process exits between the steps.
        ASSERT_TRUE(doomed->process().wait_exit(10s)) << "the fault point did not fire";
    }
    auto retried = must_send(*client, send_message(cid, "cut", "cut short"));
    EXPECT_TRUE(retried.duplicate());
    EXPECT_EQ(retried.seq(), 3u);
    must_send(*client, send_message(cid, "after", "after"));

    // Devices reading both streams from their start.
    const std::vector<std::string> all{"first words", "before", "cut short", "after"};
    auto specialist = login(*srv, bob, role::specialist, "fresh", "0-0");
    EXPECT_EQ(bodies_until(*specialist, "after"), all);
    auto other_device = login(*srv, alice, role::client, "fresh", "0-0");
    EXPECT_EQ(bodies_until(*other_device, "after"), all);
}

// Without a retry, the next send in the conversation (here the other party's) finds the gap in
// each stream and appends the missing message first, in seq order.
TEST_P(cluster_kill_between_steps, TheNextSendRepairsTheGapInOrder) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto srv = start_server();
    const auto cid = open_conversation(*login(*srv, alice, role::client),
                                       *login(*srv, bob, role::specialist), bob, "q1")
                         .cid;
    {
        auto doomed = start_server("doomed", {{"CONFIDE_TEST_EXIT_AT", GetParam()}});
        auto client = login(*doomed, alice, role::client);
        client->send(send_message(cid, "cut", "cut short"));
        ASSERT_TRUE(doomed->process().wait_exit(10s)) << "the fault point did not fire";
    }
    auto specialist = login(*srv, bob, role::specialist, "dev-1", "0-0");
    auto answer = must_send(*specialist, send_message(cid, "r", "answer"));
    EXPECT_EQ(answer.seq(), 3u);
    const std::vector<std::string> all{"first words", "cut short", "answer"};
    EXPECT_EQ(bodies_until(*specialist, "answer"), all);
    auto client = login(*srv, alice, role::client, "fresh", "0-0");
    EXPECT_EQ(bodies_until(*client, "answer"), all);
    // The sender's retry still answers the stored message, and adds nothing.
    auto retried = must_send(*client, send_message(cid, "cut", "cut short"));
    EXPECT_TRUE(retried.duplicate());
    EXPECT_EQ(retried.seq(), 2u);
}

// A server killed between the steps of an inquiry (after the client's claim, the conversation's
// step, the client's or the specialist's) has acked nothing. The client's retry of the same
// inquiry through another server finds the conversation and completes it: each party's devices
// get its creation and its message exactly once, and it goes on as any other.
class cluster_kill_inquiry : public cluster_messaging,
                             public ::testing::WithParamInterface<const char*> {};

TEST_P(cluster_kill_inquiry, TheRetryOfTheInquiryCompletesItExactlyOnce) {
    const std::string point = GetParam();
    const auto alice = unique("alice"), bob = unique("bob");
    auto srv = start_server();
    login(*srv, bob, role::specialist)->close();  // listed
    {
        auto doomed = start_server("doomed", {{"CONFIDE_TEST_EXIT_AT", point}});
        auto doomed_client = login(*doomed, alice, role::client);
        doomed_client->send(start_inquiry(bob, "q1", "cut short"));
        ASSERT_TRUE(doomed->process().wait_exit(10s)) << "the fault point did not fire";
    }
    auto client = login(*srv, alice, role::client);
    auto retried = must_send(*client, start_inquiry(bob, "q1", "cut short"));
    EXPECT_EQ(retried.seq(), 1u);
    // After the claim only, the conversation did not exist yet: the retry stores the message.
    EXPECT_EQ(retried.duplicate(), point != "inquiry:claim");
    const auto& cid = retried.conversation_id();
    // One open conversation: another inquiry to the specialist goes into it.
    auto more = must_send(*client, start_inquiry(bob, "q2", "more"));
    EXPECT_EQ(more.conversation_id(), cid);
    EXPECT_EQ(more.seq(), 2u);

    auto specialist = login(*srv, bob, role::specialist, "fresh", "0-0");
    auto answer = must_send(*specialist, send_message(cid, "r1", "answer"));
    EXPECT_EQ(answer.seq(), 3u);
    const std::vector<std::string> all{"INQUIRY " + cid, "cut short", "more", "answer"};
    EXPECT_EQ(events_until(*specialist, "answer"), all);
    auto other_device = login(*srv, alice, role::client, "fresh", "0-0");
    EXPECT_EQ(events_until(*other_device, "answer"), all);
    // And it goes on as any other.
    auto accepted = specialist->request(update(cid, v1::ACCEPT), 10s);
    ASSERT_TRUE(accepted && accepted->has_conversation()) << accepted->DebugString();
    EXPECT_EQ(accepted->conversation().conversation().state(), v1::ACTIVE);
}

// Without the inquiry's retry: a server killed after the client's step leaves the specialist
// without the conversation. The client (who has it in their stream) writes in it; that send's
// step for the specialist finds no event of the conversation in their stream and appends it
// first, then the missing message and the new one, in order.
TEST_F(cluster_messaging, ASendRepairsAnInquiryCutShortAfterTheClientsStep) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto srv = start_server();
    login(*srv, bob, role::specialist)->close();  // listed
    {
        auto doomed = start_server("doomed", {{"CONFIDE_TEST_EXIT_AT", "inquiry:client"}});
        login(*doomed, alice, role::client)->send(start_inquiry(bob, "q1", "cut short"));
        ASSERT_TRUE(doomed->process().wait_exit(10s)) << "the fault point did not fire";
    }
    auto client = login(*srv, alice, role::client, "dev-1", "0-0");
    const auto created = client->wait_for(
        [](const v1::Frame& f) { return f.has_event() && f.event().has_conversation(); }, 10s);
    ASSERT_TRUE(created);
    const auto cid = created->event().conversation().id();
    auto sent = must_send(*client, send_message(cid, "m2", "second"));
    EXPECT_EQ(sent.seq(), 2u);
    const std::vector<std::string> all{"INQUIRY " + cid, "cut short", "second"};
    EXPECT_EQ(events_until(*login(*srv, bob, role::specialist, "fresh", "0-0"), "second"), all);
    EXPECT_EQ(events_until(*login(*srv, alice, role::client, "fresh", "0-0"), "second"), all);
    // The specialist has it among their inquiries.
    auto specialist = login(*srv, bob, role::specialist);
    auto list = specialist->request(list_conversations(), 10s);
    ASSERT_TRUE(list && list->has_conversations());
    ASSERT_GE(list->conversations().conversations_size(), 1);
    EXPECT_EQ(list->conversations().conversations(0).id(), cid);
    EXPECT_EQ(list->conversations().conversations(0).state(), v1::INQUIRY);
}

// A server killed between the steps of a close (after the conversation's step, the client's or
// the specialist's) has answered nothing. The client can write to the specialist again at once
// (a new conversation, although the close's client step may be missing), and the close's retry
// completes it: each device hears of it exactly once.
class cluster_kill_update : public cluster_messaging,
                            public ::testing::WithParamInterface<const char*> {};

TEST_P(cluster_kill_update, TheRetryOfACloseCompletesItExactlyOnce) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto srv = start_server();
    auto client = login(*srv, alice, role::client);
    auto specialist = login(*srv, bob, role::specialist);
    const auto x = open_conversation(*client, *specialist, bob, "q1").cid;
    {
        auto doomed = start_server("doomed", {{"CONFIDE_TEST_EXIT_AT", GetParam()}});
        auto doomed_client = login(*doomed, alice, role::client, "dev-2");
        doomed_client->send(update(x, v1::CLOSE));
        ASSERT_TRUE(doomed->process().wait_exit(10s)) << "the fault point did not fire";
    }
    auto y = must_send(*client, start_inquiry(bob, "q2", "next")).conversation_id();
    EXPECT_NE(y, x);
    auto closed = client->request(update(x, v1::CLOSE), 10s);
    ASSERT_TRUE(closed && closed->has_conversation()) << closed->DebugString();
    EXPECT_EQ(closed->conversation().conversation().state(), v1::CLOSED);
    must_send(*client, send_message(y, "m1", "after"));

    for (auto [user, r] : {std::pair{alice, role::client}, std::pair{bob, role::specialist}}) {
        auto fresh = login(*srv, user, r, "fresh", "0-0");
        const auto got = events_until(*fresh, "after");
        const auto count = [&](const std::string& e) {
            return std::count(got.begin(), got.end(), e);
        };
        std::string story;
        for (const auto& e : got) {
            story += "[" + e + "] ";
        }
        SCOPED_TRACE(user + ": " + story);
        EXPECT_EQ(count("INQUIRY " + x), 1) << user;
        EXPECT_EQ(count("ACTIVE " + x), 1) << user;
        EXPECT_EQ(count("CLOSED " + x), 1) << user;
        EXPECT_EQ(count("INQUIRY " + y), 1) << user;
        std::vector<std::string> bodies;
        std::copy_if(got.begin(), got.end(), std::back_inserter(bodies), [&](const std::string& e) {
            return e.find(x) == std::string::npos && e.find(y) == std::string::npos;
        });
        EXPECT_EQ(bodies, (std::vector<std::string>{"first words", "next", "after"})) << user;
    }
}

// A sweeper killed between the steps of an expiry (after the conversation's step, the
// client's or the specialist's) leaves the schedule entry due: the next sweep, by another
// node, completes the expiry; each party hears of it once, and the client can write again.
class cluster_kill_expiry : public cluster_messaging,
                            public ::testing::WithParamInterface<const char*> {};

TEST_P(cluster_kill_expiry, TheNextSweepCompletesTheExpiryOnce) {
    const std::vector<std::string> fast{"--inquiry-expiry-s", "1", "--workflow-interval-ms", "100"};
    const auto alice = unique("alice"), bob = unique("bob");
    std::string x;
    {
        auto doomed = start_server("doomed", {{"CONFIDE_TEST_EXIT_AT", GetParam()}}, fast);
        login(*doomed, bob, role::specialist)->close();  // listed
        auto client = login(*doomed, alice, role::client);
        x = must_send(*client, start_inquiry(bob, "q1", "anyone?")).conversation_id();
        // Its sweeper exits at the fault point once the inquiry is due.
        ASSERT_TRUE(doomed->process().wait_exit(10s)) << "the fault point did not fire";
    }
    auto srv = start_server("server", {}, fast);
    auto client = login(*srv, alice, role::client, "dev-1", "0-0");
    auto specialist = login(*srv, bob, role::specialist, "dev-1", "0-0");
    ASSERT_TRUE(client->wait_for(is_state(v1::EXPIRED, x), 10s));
    ASSERT_TRUE(specialist->wait_for(is_state(v1::EXPIRED, x), 10s));
    const auto y = must_send(*client, start_inquiry(bob, "q2", "again")).conversation_id();
    EXPECT_NE(y, x);
    // Answered: it does not expire (nor fire the next test's fault point).
    must_send(*specialist, send_message(y, "r1", "here"));
    for (auto [user, r] : {std::pair{alice, role::client}, std::pair{bob, role::specialist}}) {
        auto fresh = login(*srv, user, r, "fresh", "0-0");
        EXPECT_EQ(events_until(*fresh, "here"),
                  (std::vector<std::string>{"INQUIRY " + x, "anyone?", "EXPIRED " + x,
                                            "INQUIRY " + y, "again", "here"}))
            << user;
    }
}

// A master with a replica each: one is killed, its replica takes over, clients go on.
class cluster_failover : public cluster_messaging {
protected:
    static void SetUpTestSuite() {
        redis_cluster_options opts;
        opts.replicas_per_master = 1;
        start_cluster(opts);
    }

    /// A user id whose keys are served by master `i`.
    static std::string user_on(std::size_t i, const std::string& base) {
        for (int n = 0; n < 10000; ++n) {
            auto id = unique(base);
            if (cluster_->owner(store::redis::key_slot(keys::inbox(id))) == i) {
                return id;
            }
        }
        throw std::runtime_error("no user id lands on master " + std::to_string(i));
    }

    /// The number after `field` in node `i`'s INFO replication, or -1.
    static long long replication(std::size_t i, const std::string& field) {
        const auto info = cluster_->command(i, {"INFO", "replication"});
        const auto at = info.find(field + ":");
        return at == std::string::npos ? -1 : std::stoll(info.substr(at + field.size() + 1));
    }
};

TEST_F(cluster_failover, ClientsResumeWhenAMasterFailsOverToItsReplica) {
    // Not the first master: the server's classic subscription (notices other than messages) is
    // on it, and following its failover is not built yet (docs/design.md, "Redis Cluster").
    const auto masters = cluster_->masters();
    ASSERT_GE(masters.size(), 2u);
    const auto doomed = masters[1];
    const auto replica = cluster_->replica_of(doomed);
    ASSERT_TRUE(replica);
    auto srv = start_server();
    const auto alice = unique("alice"), bob = user_on(doomed, "bob");
    auto specialist = login(*srv, bob, role::specialist);
    auto client = login(*srv, alice, role::client);
    const auto cid = open_conversation(*client, *specialist, bob, "q1").cid;
    must_send(*client, send_message(cid, "m1", "before the failover"));
    ASSERT_TRUE(specialist->wait_for(is_message_event("before the failover"), 10s));

    // Replication is asynchronous (README, "What sent guarantees"): the master is killed once
    // its replica has everything, so that what the test checks is the failover's handling.
    // The replica's own offset is polled: WAIT from a fresh connection does not wait for this
    // offset (it waits for the connection's own writes, none), and on a loaded machine the
    // replica took more than the 200 quick WAITs this loop once made (CI).
    const auto offset = replication(doomed, "master_repl_offset");
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (replication(*replica, "slave_repl_offset") < offset &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_GE(replication(*replica, "slave_repl_offset"), offset);
    EXPECT_EQ(cluster_->fail_over(doomed), *replica);

    // The client retries with the same id while the cluster settles, as a client does on
    // UNAVAILABLE; each attempt waits for its reply.
    std::optional<v1::SendReply> sent;
    for (int attempt = 0; attempt < 20 && !sent; ++attempt) {
        auto r = client->request(send_message(cid, "m2", "after the failover"), 10s);
        ASSERT_TRUE(r) << "no reply";
        if (r->has_sent()) {
            sent = r->sent();
        } else {
            ASSERT_TRUE(r->error().retryable()) << r->error().message();
        }
    }
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->seq(), 3u);
    // The specialist's subscription moved to the replica: the message arrives, once.
    EXPECT_EQ(bodies_until(*specialist, "after the failover"),
              (std::vector<std::string>{"after the failover"}));
}

// A test's name after its fault point: "<write>:<step>" -> "After...". A send's two user steps
// run at once ("send:client" and "send:specialist" fire as that one replies, "send:users" after
// both); the other writes' run one after the other (their ":specialist" comes after both).
std::string after_step(const ::testing::TestParamInfo<const char*>& p) {
    const std::string point = p.param;
    const std::string step = point.substr(point.find(':') + 1);
    const bool together = point.starts_with("send:");
    return step == "claim"                    ? "AfterTheClaim"
           : step == "conversation"           ? "AfterTheConversationStep"
           : step == "client"                 ? "AfterTheClientStep"
           : step == "specialist" && together ? "AfterTheSpecialistStep"
                                              : "AfterBothUserSteps";
}

INSTANTIATE_TEST_SUITE_P(points, cluster_kill_between_steps,
                         ::testing::Values("send:conversation", "send:client", "send:specialist",
                                           "send:users"),
                         after_step);
INSTANTIATE_TEST_SUITE_P(points, cluster_kill_inquiry,
                         ::testing::Values("inquiry:claim", "inquiry:conversation",
                                           "inquiry:client", "inquiry:specialist"),
                         after_step);
INSTANTIATE_TEST_SUITE_P(points, cluster_kill_update,
                         ::testing::Values("update:conversation", "update:client",
                                           "update:specialist"),
                         after_step);
INSTANTIATE_TEST_SUITE_P(points, cluster_kill_expiry,
                         ::testing::Values("expire:conversation", "expire:client",
                                           "expire:specialist"),
                         after_step);

}  // namespace
}  // namespace confide::test

// confide-server on a Redis Cluster (--redis-cluster): a conversation's life across two nodes
// (inquiry, accept, close; an inquiry that expires; an unread reminder), retention, key rotation
// and erasure (docs/design.md, "Redis Cluster"). Real redis-server nodes, real servers, real
// sockets. Every conversation is opened the way people open one: an inquiry the specialist
// accepts. (A server killed between the per-slot steps of a write: kill_between_steps_test.cpp;
// a failover: failover_test.cpp; messaging, receipts, offline delivery, idempotent retries and
// two nodes on a cluster: the single-Redis tests themselves, integration_server_cluster.)

#include "cluster_messaging.hpp"
#include "crypto/data_key.hpp"
#include "events_until.hpp"
#include "own_echo.hpp"
#include "support/http_get.hpp"
#include "support/key_files.hpp"
#include "support/local.hpp"
#include "support/metrics_text.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace confide::test {
namespace {

using auth::role;
namespace keys = store::keys;

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

}  // namespace
}  // namespace confide::test

// confide-server on a Redis Cluster killed between the per-slot steps of a send, of an inquiry,
// of a close and of an expiry (fault points, docs/design.md "Redis Cluster"): what a retry, the
// next send or the next sweep repairs, and that no device gets anything twice or misses it.

#include "cluster_messaging.hpp"
#include "events_until.hpp"
#include "support/local.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace confide::test {
namespace {

using auth::role;

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

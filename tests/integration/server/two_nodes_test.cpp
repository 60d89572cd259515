// Two server processes on one Redis behave as one, and the users of a node that crashed go
// offline. Built twice: on one Redis (integration_server) and on a Redis Cluster of 3 masters
// (integration_server_cluster).

#include "harness.hpp"

#include <csignal>

namespace confide::test {
namespace {

using two_nodes = server_test;

TEST_F(two_nodes, BehaveAsOne) {
    auto node_a = backend_->start_server({"--presence-grace-ms", "200"}, "node-a");
    auto node_b = backend_->start_server({"--presence-grace-ms", "200"}, "node-b");
    const auto alice = unique("alice"), bob = specialist("bob");
    auto b = login(bob, role::specialist, "dev-1", node_b.get());
    auto a = login(alice, role::client, "dev-1", node_a.get());
    const auto cid = must_send(*a, start_inquiry(bob, "i0", "across nodes")).conversation_id();
    auto got = b->wait_for(is_message_event("across nodes"));
    ASSERT_TRUE(got);
    // Reply, receipts, typing and presence cross the nodes too.
    EXPECT_EQ(must_send(*b, send_message(cid, "r1", "heard you")).seq(), 2u);
    ASSERT_TRUE(a->wait_for(is_message_event("heard you")));
    // The conversation's seqs stay consecutive whichever node stores the message.
    EXPECT_EQ(must_send(*a, send_message(cid, "a2", "again from a")).seq(), 3u);
    ASSERT_TRUE(b->wait_for(is_message_event("again from a")));
    b->send(ack(got->event().cursor()));
    ASSERT_TRUE(a->wait_for(is_receipt(v1::DELIVERED, 1)));
    ASSERT_TRUE(b->request(mark_read(cid, 1))->has_ok());
    ASSERT_TRUE(a->wait_for(is_receipt(v1::READ, 1)));
    v1::Frame t;
    t.mutable_typing()->set_conversation_id(cid);
    t.mutable_typing()->set_typing(true);
    ASSERT_TRUE(a->request(t)->has_ok());
    ASSERT_TRUE(b->wait_for([](const v1::Frame& f) { return f.has_typing_push(); }));
    // Alice moves from node A to node B: online there, and no "lost" in between.
    auto a2 = login(alice, role::client, "dev-2", node_b.get());
    a.reset();
    EXPECT_FALSE(b->wait_for(is_presence(v1::OFFLINE), 1s));
    a2.reset();
    ASSERT_TRUE(b->wait_for(is_presence(v1::OFFLINE, true), 10s));
}

TEST_F(two_nodes, UsersOfACrashedNodeGoOffline) {
    auto node_a = backend_->start_server({"--presence-ttl-ms", "1500"}, "node-a");
    auto node_b = backend_->start_server({"--presence-ttl-ms", "1500"}, "node-b");
    const auto alice = unique("alice"), bob = specialist("bob");
    auto b = login(bob, role::specialist, "dev-1", node_b.get());
    auto a = login(alice, role::client, "dev-1", node_a.get());
    must_send(*a, start_inquiry(bob, "i0", "hi"));
    node_a->process().signal(SIGKILL);
    // Node A can no longer say anything; node B's sweeper finds alice's expired entry.
    auto lost = b->wait_for(is_presence(v1::OFFLINE, true), 20s);
    ASSERT_TRUE(lost);
    EXPECT_EQ(lost->presence().presence().user_id(), alice);
}

}  // namespace
}  // namespace confide::test

// Key rotation end to end (docs/privacy.md, "Key rotation"), on a real Redis and real servers:
// `confide-admin keys rotate` rewraps every conversation's data key under the key file's new
// current key while a client keeps sending; nothing acked is lost; then a server holding only
// the new key reads everything.

#include "harness.hpp"
#include "sweep.hpp"

#include "support/key_files.hpp"

#include "crypto/data_key.hpp"

#include <atomic>
#include <regex>
#include <thread>

namespace confide::test {
namespace {

using keys = server_test;
using namespace std::chrono_literals;

// The KEK id each conversation's wrapped data key names, by conversation.
std::map<std::string, std::string> kek_of_every_conversation(const redis_server& redis) {
    std::map<std::string, std::string> out;
    for (const auto& [cid, wrapped] : wrapped_data_keys(redis)) {
        auto info = crypto::inspect_wrapped(wrapped);
        out[cid] = info ? std::string(info->kek_id) : "(unreadable)";
    }
    return out;
}

TEST_F(keys, RotatedWhileTrafficFlowsNothingIsLostAndTheNewKeyAloneReadsEverything) {
    redis_server redis;
    const temp_dir dir("confide-rotation");
    const auto files = make_rotation_key_files(dir);
    const auto &old_file = files.old_file, &both_file = files.both_file, &new_file = files.new_file;

    const auto bob = unique("dr.bob");
    list_specialist(redis, bob);
    std::vector<std::string> clients;
    std::vector<std::string> cids;
    std::map<std::string, std::vector<std::string>> acked;  // conversation -> bodies
    {
        server_process before(redis, {"--data-key-file", old_file});
        for (int i = 0; i < 6; ++i) {
            clients.push_back(unique("client"));
            auto c = before.connect();
            c->login(mint(clients.back(), role::client), "dev-1");
            const auto body = "before rotation " + std::to_string(i);
            cids.push_back(must_send(*c, start_inquiry(bob, "m0", body)).conversation_id());
            acked[cids.back()].push_back(body);
        }
    }
    for (const auto& [key, kek] : kek_of_every_conversation(redis)) {
        EXPECT_EQ(kek, "k1") << key;
    }

    // A rolling restart onto the rotation's file (new data keys are wrapped under k2), then the
    // rotation while one client keeps sending and another opens a conversation.
    server_process during(
        redis, {"--data-key-file", both_file, "--send-rate", "10000", "--send-burst", "10000"});
    std::atomic<bool> rotated{false};
    std::vector<std::string> sent_during;
    std::thread traffic([&] {
        auto c = during.connect();
        c->login(mint(clients[0], role::client), "dev-2");
        // Bounded: at least 20 messages, then until the rotation ends; at most 150 (one history
        // page).
        for (int i = 0; i < 150 && (!rotated.load() || i < 20); ++i) {
            const auto body = "during rotation " + std::to_string(i);
            const auto r = must_send(*c, send_message(cids[0], "d" + std::to_string(i), body));
            if (r.seq() == 0) {
                return;
            }
            sent_during.push_back(body);
        }
    });
    auto late = during.connect();
    const auto late_client = unique("late");
    late->login(mint(late_client, role::client), "dev-1");
    const auto late_cid =
        must_send(*late, start_inquiry(bob, "m0", "opened during rotation")).conversation_id();
    acked[late_cid].push_back("opened during rotation");

    const auto r =
        run_admin(redis, {"keys", "rotate", "--data-key-file", both_file, "--batch", "2"});
    rotated = true;
    traffic.join();
    ASSERT_EQ(r.status, 0) << r.text();
    EXPECT_NE(r.text().find("conversations: 7"), std::string::npos) << r.text();
    EXPECT_TRUE(std::regex_search(r.text(), std::regex("rewrapped under k2: [67]\n"))) << r.text();
    EXPECT_NE(r.text().find("the other keys can be removed"), std::string::npos) << r.text();
    EXPECT_NE(r.text().find("no longer accepted alone at a server's start: k1"), std::string::npos)
        << r.text();
    ASSERT_GE(sent_during.size(), 20u);
    for (const auto& b : sent_during) {
        acked[cids[0]].push_back(b);
    }
    for (const auto& [key, kek] : kek_of_every_conversation(redis)) {
        EXPECT_EQ(kek, "k2") << key;
    }
    const auto audit = redis.command({"XRANGE", "cf:audit", "-", "+"});
    EXPECT_NE(audit.find("key_rotation"), std::string::npos) << audit;
    EXPECT_NE(audit.find("keys rotate to k2"), std::string::npos) << audit;
    EXPECT_EQ(during.stop(), 0);

    // The old key removed: a server with k2 alone reads every acked message of every
    // conversation, and the list.
    server_process after(redis, {"--data-key-file", new_file});
    auto b = after.connect();
    b->login(mint(bob, role::specialist), "dev-1");
    for (const auto& [cid, bodies] : acked) {
        auto h = b->request(history(cid, 0, 200));
        ASSERT_TRUE(h && h->has_history()) << (h ? h->DebugString() : "no reply");
        std::vector<std::string> read;
        for (const auto& m : h->history().messages()) {
            read.insert(read.begin(), m.body());  // newest first
        }
        EXPECT_EQ(read, bodies) << cid;
    }
    auto list = b->request(list_conversations());
    ASSERT_TRUE(list && list->has_conversations());
    EXPECT_EQ(list->conversations().conversations_size(), 7);
    for (const auto& l : after.process().lines()) {
        EXPECT_EQ(l.find("refused"), std::string::npos) << l;
    }

    // Rotating again changes nothing; a key file without the KEK of some data keys is refused.
    const auto again = run_admin(redis, {"keys", "rotate", "--data-key-file", new_file});
    EXPECT_EQ(again.status, 0) << again.text();
    EXPECT_NE(again.text().find("rewrapped under k2: 0"), std::string::npos) << again.text();
    const auto other = run_admin(
        redis, {"keys", "rotate", "--data-key-file",
                write_key_file(dir, "other.keys", crypto::kek_ring::generate_text("k9"))});
    EXPECT_EQ(other.status, 1) << other.text();
    EXPECT_NE(other.text().find("holds none of the key-encryption keys"), std::string::npos)
        << other.text();
    EXPECT_EQ(run_admin(redis, {"keys", "rotate"}).status, 2);
    // The old key file alone no longer passes the key check at start (it would open nothing).
    refused_to_start(
        redis, {"--data-key-file", old_file},
        "holds none of the key-encryption keys this Redis's data was sealed with (k2)");
}

}  // namespace
}  // namespace confide::test

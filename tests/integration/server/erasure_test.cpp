// Erasure end to end (docs/privacy.md, "Erasure"), on a real Redis with its append-only file and
// an RDB snapshot, and real servers: after `confide-admin erase user`, none of the user's words
// can be recovered, even with Redis's data directory and the key files; the other party sees
// the conversation as erased; other users' conversations are untouched; the user's connected
// device is closed.

#include "harness.hpp"
#include "sweep.hpp"

#include "common/random_id.hpp"
#include "crypto/data_key.hpp"
#include "crypto/record.hpp"

namespace confide::test {
namespace {

using erasure = server_test;
using namespace std::chrono_literals;

// The sealed bodies of a conversation's log: (seq, sender, sealed body).
struct sealed_message {
    std::uint64_t seq = 0;
    std::string sender;
    std::string body;
};
std::vector<sealed_message> sealed_log(const redis_server& redis, const std::string& cid) {
    std::vector<sealed_message> out;
    const auto reply = redis.query({"XRANGE", "cf:c:{" + cid + "}:log", "-", "+"});
    const redisReply* r = reply.get();
    for (std::size_t i = 0; i < r->elements; ++i) {
        const auto* e = r->element[i];
        sealed_message m;
        const std::string id(e->element[0]->str, e->element[0]->len);
        m.seq = std::stoull(id.substr(2));
        const auto* f = e->element[1];
        for (std::size_t j = 0; j + 1 < f->elements; j += 2) {
            const std::string name(f->element[j]->str, f->element[j]->len);
            const std::string value(f->element[j + 1]->str, f->element[j + 1]->len);
            if (name == "s") {
                m.sender = value;
            } else if (name == "b") {
                m.body = value;
            }
        }
        out.push_back(std::move(m));
    }
    return out;
}

// Rewrites Redis's files as an erasure does, so that a search of them sees the current data.
void rewrite_files(const redis_server& redis) {
    EXPECT_EQ(redis.command({"SAVE"}), "OK");
}

TEST_F(erasure, AnErasedUsersWordsCannotBeRecoveredAndTheOtherPartySeesTheConversationErased) {
    // Uncompressed RDB strings (and AOF base files), so that a byte search of the files finds
    // every copy of a wrapped data key.
    redis_server_options opts;
    opts.extra_args = {"--rdbcompression", "no"};
    redis_server redis(opts);
    const temp_dir dir("confide-erasure");
    const auto key_path = key_file(dir, "data.keys", "k1");
    const auto ring = crypto::kek_ring::load_file(key_path);
    server_process srv(redis, {"--data-key-file", key_path});
    const auto canary = "canary-" + random_hex_id();
    const auto bob = unique("dr.bob");
    list_specialist(redis, bob);
    const auto alice = unique("alice");
    const auto carol = unique("carol");

    auto b = srv.connect();
    b->login(mint(bob, role::specialist), "dev-1");
    auto a = srv.connect();
    a->login(mint(alice, role::client), "dev-1");
    auto c = srv.connect();
    c->login(mint(carol, role::client), "dev-1");
    auto inquiry = start_inquiry(bob, "a1", "Alice writes " + canary);
    inquiry.mutable_start_inquiry()->set_topic("topic " + canary);
    const auto alice_cid = must_send(*a, inquiry).conversation_id();
    must_send(*b, send_message(alice_cid, "b1", "Bob answers " + canary));
    must_send(*a, send_message(alice_cid, "a2", "Alice again " + canary));
    const auto carol_cid =
        must_send(*c, start_inquiry(bob, "c1", "Carol writes")).conversation_id();
    must_send(*b, send_message(carol_cid, "b2", "Bob answers Carol"));

    // Before: the data key and the sealed bodies are in Redis and in its files (the search
    // finds what is there).
    const auto alice_dk = wrapped_data_keys(redis).at(alice_cid);
    const auto alice_log = sealed_log(redis, alice_cid);
    ASSERT_EQ(alice_log.size(), 3u);
    rewrite_files(redis);
    {
        const auto files = read_files(redis.dir());
        ASSERT_NE(files.find(alice_dk), std::string::npos) << "the search sees the data key";
        ASSERT_NE(files.find(alice_log[0].body), std::string::npos) << "and a sealed body";
    }

    const auto r = run_admin(redis, {"erase", "user", alice});
    ASSERT_EQ(r.status, 0) << r.text();
    EXPECT_NE(r.text().find("erased conversation " + alice_cid), std::string::npos) << r.text();
    EXPECT_NE(r.text().find("Redis rewrote its append-only file and its RDB snapshot"),
              std::string::npos)
        << r.text();

    // Alice's connected device is closed, signed out.
    const auto closed = a->wait_closed(10s);
    ASSERT_TRUE(closed) << "alice's connection stayed open";
    EXPECT_EQ(closed->code, 1000);
    EXPECT_EQ(closed->reason, "account erased");

    // Nothing of Alice in Redis: no key of hers, her conversation's key and log gone, the canary
    // nowhere; in the files, no copy of the data key, no sealed body, no canary.
    const auto every_key = dump_every_key(redis);
    EXPECT_EQ(every_key.find("cf:u:{" + alice + "}"), std::string::npos) << every_key;
    EXPECT_EQ(every_key.find(canary), std::string::npos) << every_key;
    EXPECT_EQ(redis.command({"EXISTS", "cf:c:{" + alice_cid + "}:log"}), "0");
    EXPECT_EQ(redis.command({"HGET", "cf:c:{" + alice_cid + "}", "dk"}), "(nil)");
    const auto files = read_files(redis.dir());
    EXPECT_EQ(files.find(alice_dk), std::string::npos) << "a copy of the data key is on disk";
    EXPECT_EQ(files.find(canary), std::string::npos);
    for (const auto& m : alice_log) {
        EXPECT_EQ(files.find(m.body), std::string::npos) << "a sealed body is on disk";
    }
    // With the key file, no data key left opens any of her sealed records (even had one copy
    // been kept elsewhere).
    for (const auto& [cid, wrapped] : wrapped_data_keys(redis)) {
        for (const auto& owner : {cid, alice_cid}) {
            auto key = crypto::unwrap_data_key(ring, wrapped, owner);
            if (!key) {
                continue;
            }
            for (const auto& m : alice_log) {
                EXPECT_FALSE(crypto::open_record(*key, {alice_cid, m.seq, m.sender}, m.body))
                    << "opened with the key of " << cid;
            }
        }
    }

    // Bob sees the conversation as erased: an event, the list, history refused as NOT_FOUND.
    ASSERT_TRUE(b->wait_for([&](const v1::Frame& f) {
        return f.has_event() && f.event().has_conversation() &&
               f.event().conversation().id() == alice_cid &&
               f.event().conversation().state() == v1::ERASED;
    })) << "no erased event for the other party";
    auto list = b->request(list_conversations());
    ASSERT_TRUE(list && list->has_conversations());
    bool listed = false;
    for (const auto& conv : list->conversations().conversations()) {
        if (conv.id() == alice_cid) {
            listed = true;
            EXPECT_EQ(conv.state(), v1::ERASED);
            EXPECT_FALSE(conv.has_last_message());
            EXPECT_TRUE(conv.topic().empty());
        } else {
            EXPECT_EQ(conv.id(), carol_cid);
            EXPECT_EQ(conv.state(), v1::INQUIRY);
            EXPECT_EQ(conv.last_message().body(), "Bob answers Carol");
        }
    }
    EXPECT_TRUE(listed);
    const auto err = must_fail(*b, history(alice_cid), v1::NOT_FOUND);
    EXPECT_EQ(err.message(), "this conversation was erased");
    must_fail(*b, send_message(alice_cid, "b3", "still there?"), v1::FAILED_PRECONDITION);

    // Carol's conversation is untouched, for both of its parties.
    auto h = c->request(history(carol_cid));
    ASSERT_TRUE(h && h->has_history());
    ASSERT_EQ(h->history().messages_size(), 2);
    EXPECT_EQ(h->history().messages(1).body(), "Carol writes");
    must_send(*c, send_message(carol_cid, "c2", "Carol goes on"));
    ASSERT_TRUE(b->wait_for(is_message_event("Carol goes on")));

    // Audited, with what was erased; nothing of the sort for an unknown user.
    const auto audit = redis.command({"XRANGE", "cf:audit", "-", "+"});
    EXPECT_NE(audit.find("erase user " + alice + ": 1 conversations"), std::string::npos) << audit;
    EXPECT_EQ(run_admin(redis, {"erase", "user", unique("nobody")}).status, 1);
    EXPECT_EQ(run_admin(redis, {"erase", "user"}).status, 2);
    // The server never logged the canary, nor refused a record (nothing erased is opened).
    for (const auto& l : srv.process().lines()) {
        EXPECT_EQ(l.find(canary), std::string::npos) << l;
        EXPECT_EQ(l.find("integrity_failure"), std::string::npos) << l;
    }
}

TEST_F(erasure, AnErasedConversationIsErasedForBothPartiesAndTheirOtherConversationsStay) {
    auto& srv = server();
    const auto bob = specialist("dr.bob");
    const auto ana = specialist("dr.ana");
    const auto alice = unique("alice");
    auto a = login(alice, role::client);
    const auto erased = must_send(*a, start_inquiry(bob, "a1", "to be erased")).conversation_id();
    const auto kept = must_send(*a, start_inquiry(ana, "a2", "to be kept")).conversation_id();

    const auto r = run_admin(*redis_, {"erase", "conversation", erased});
    ASSERT_EQ(r.status, 0) << r.text();
    EXPECT_NE(r.text().find("erased conversation " + erased), std::string::npos) << r.text();
    ASSERT_TRUE(a->wait_for([&](const v1::Frame& f) {
        return f.has_event() && f.event().has_conversation() &&
               f.event().conversation().id() == erased &&
               f.event().conversation().state() == v1::ERASED;
    }));
    must_fail(*a, history(erased), v1::NOT_FOUND);
    auto b = login(bob, role::specialist);
    must_fail(*b, history(erased), v1::NOT_FOUND);
    auto h = a->request(history(kept));
    ASSERT_TRUE(h && h->has_history());
    ASSERT_EQ(h->history().messages_size(), 1);
    EXPECT_EQ(h->history().messages(0).body(), "to be kept");
    // Alice may write to Bob again: the erased conversation no longer holds her open inquiry.
    must_send(*a, start_inquiry(bob, "a3", "hello again"));
    // A sync from the start skips what was erased and goes on.
    auto fresh = srv.connect();
    fresh->login(mint(alice, role::client), "dev-2", true, "0-0");
    ASSERT_TRUE(fresh->wait_for(is_message_event("hello again")));
    EXPECT_EQ(run_admin(*redis_, {"erase", "conversation", "no-such-conversation"}).status, 1);
    const auto audit = redis_->command({"XRANGE", "cf:audit", "-", "+"});
    EXPECT_NE(audit.find("erase conversation " + erased), std::string::npos) << audit;

    // A specialist erased: gone from the directory (nobody can write to them), and Alice sees
    // her conversation with them as erased.
    const auto gone = run_admin(*redis_, {"erase", "user", ana});
    ASSERT_EQ(gone.status, 0) << gone.text();
    EXPECT_EQ(run_admin(*redis_, {"directory", "show", ana}).status, 1);
    ASSERT_TRUE(a->wait_for([&](const v1::Frame& f) {
        return f.has_event() && f.event().has_conversation() &&
               f.event().conversation().id() == kept &&
               f.event().conversation().state() == v1::ERASED;
    }));
    must_fail(*a, start_inquiry(ana, "a4", "are you there?"), v1::NOT_FOUND);
}

}  // namespace
}  // namespace confide::test

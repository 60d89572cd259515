// Redis trouble and restarts: never a false ack, nothing acked lost, service resumes by itself;
// a Redis that would lose acked messages, or holds another layout, is refused. (Two server
// processes behaving as one: two_nodes_test.cpp, which runs on a cluster too.)

#include "harness.hpp"

#include <thread>

namespace confide::test {
namespace {

// Each test here owns its Redis: they stop, pause and restart it.
class resilience : public ::testing::Test {
protected:
    std::string unique(const std::string& base) {
        static std::atomic<int> n{0};
        return base + ".r" + std::to_string(++n);
    }
    std::unique_ptr<ws_client> login(server_process& srv, const std::string& user, role r,
                                     const std::string& device = "dev-1") {
        auto c = srv.connect();
        c->login(mint(user, r), device);
        return c;
    }
};

// Retries a send with the same id until it is acked or `deadline` passes, like a client outbox.
std::optional<v1::SendReply> send_until_acked(ws_client& c, const v1::Frame& req,
                                              std::chrono::seconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
        auto r = c.request(req);
        if (r && r->has_sent()) {
            return r->sent();
        }
        if (r && r->has_error() && !r->error().retryable()) {
            ADD_FAILURE() << "non-retryable error: " << r->error().message();
            return std::nullopt;
        }
        // A client's retry backoff (not a wait for an event: there is none to wait for).
        std::this_thread::sleep_for(100ms);
    }
    return std::nullopt;
}

TEST_F(resilience, RedisDownMeansUnavailableNeverAFalseAckAndServiceResumes) {
    redis_server redis;
    server_process srv(redis, {"--redis-timeout-ms", "500"});
    const auto alice = unique("alice"), bob = unique("bob");
    list_specialist(redis, bob);
    auto b = login(srv, bob, role::specialist);
    auto a = login(srv, alice, role::client);
    const auto cid = must_send(*a, start_inquiry(bob, "i0", "hi")).conversation_id();
    ASSERT_TRUE(b->wait_for(is_message_event("hi")));

    redis.stop();
    auto e = must_fail(*a, send_message(cid, "during-outage", "are you there?"), v1::UNAVAILABLE);
    EXPECT_TRUE(e.retryable());
    // Other requests fail the same way, and nothing crashes.
    must_fail(*a, history(cid), v1::UNAVAILABLE);

    redis.start();
    auto acked = send_until_acked(*a, send_message(cid, "during-outage", "are you there?"), 30s);
    ASSERT_TRUE(acked) << "service did not resume after Redis came back";
    EXPECT_EQ(acked->seq(), 2u);
    // Bob's connection survived the outage and gets the message exactly once.
    auto got = b->wait_for(is_message_event("are you there?"), 10s);
    ASSERT_TRUE(got);
    EXPECT_FALSE(b->wait_for(is_message_event("are you there?"), 500ms));
    auto h = a->request(history(cid));
    ASSERT_TRUE(h && h->has_history());
    EXPECT_EQ(h->history().messages_size(), 2);
}

TEST_F(resilience, ASlowRedisTimesOutAsUnavailableAndTheRetryIsIdempotent) {
    redis_server redis;
    server_process srv(redis, {"--redis-timeout-ms", "300"});
    const auto alice = unique("alice"), bob = unique("bob");
    list_specialist(redis, bob);
    auto a = login(srv, alice, role::client);
    const auto cid = must_send(*a, start_inquiry(bob, "i0", "hi")).conversation_id();
    redis.pause();
    auto r = a->request(send_message(cid, "m1", "stuck"), 10s);
    ASSERT_TRUE(r && r->has_error());
    EXPECT_EQ(r->error().code(), v1::UNAVAILABLE);
    redis.resume();
    // The paused command may have been applied once Redis woke up: the retry must not store it
    // twice, whichever happened.
    auto acked = send_until_acked(*a, send_message(cid, "m1", "stuck"), 30s);
    ASSERT_TRUE(acked);
    auto h = a->request(history(cid));
    ASSERT_TRUE(h && h->has_history());
    EXPECT_EQ(h->history().messages_size(), 2);
}

TEST_F(resilience, AckedMessagesSurviveARedisKill) {
    redis_server_options opts;
    opts.appendfsync = "always";
    redis_server redis(opts);
    const auto alice = unique("alice"), bob = unique("bob");
    list_specialist(redis, bob);
    std::string cid;
    {
        server_process srv(redis, {"--send-rate", "1000", "--send-burst", "1000"});
        auto a = login(srv, alice, role::client);
        cid = must_send(*a, start_inquiry(bob, "i0", "m0")).conversation_id();
        for (int i = 1; i <= 50; ++i) {
            must_send(*a, send_message(cid, "m" + std::to_string(i), "m" + std::to_string(i)));
        }
    }
    redis.kill();  // SIGKILL: only what reached the append-only file survives
    redis.start();
    server_process srv(redis);
    auto b = login(srv, bob, role::specialist);
    auto h = b->request(history(cid, 0, 100));
    ASSERT_TRUE(h && h->has_history());
    EXPECT_EQ(h->history().messages_size(), 51);
    // And bob's first device gets all of it as events.
    std::size_t messages = 0;
    while (b->wait_for(is_message_event(), 2s)) {
        if (++messages == 51) {
            break;
        }
    }
    EXPECT_EQ(messages, 51u);
}

// Starts a server on `redis` with `extra` flags and expects it to exit, saying `words`.
void expect_refusal(redis_server& redis, std::vector<std::string> extra, const std::string& words) {
    auto args = server_args(redis);
    extra.insert(extra.begin(), {"--listen", "127.0.0.1:0"});
    args.insert(args.begin(), extra.begin(), extra.end());
    child_process p(server_binary(), args);
    auto code = p.wait_exit(20s);
    ASSERT_TRUE(code);
    EXPECT_NE(*code, 0);
    // The exit can be seen before the last lines are read from the pipes: wait for the line (the
    // wait ends early once both pipes closed).
    const auto explained = p.wait_for_line(
        [&](std::string_view line) { return line.find(words) != std::string_view::npos; }, 10s);
    EXPECT_TRUE(explained) << "the refusal should say: " << words;
}

TEST_F(resilience, RefusesToStartOnARedisThatWouldLoseAckedMessages) {
    redis_server_options no_aof;
    no_aof.appendonly = false;
    redis_server_options evicting;
    evicting.maxmemory_policy = "allkeys-lru";
    for (const auto& [opts, words] : std::vector<std::pair<redis_server_options, std::string>>{
             {no_aof, "appendonly"}, {evicting, "maxmemory-policy"}}) {
        redis_server redis(opts);
        expect_refusal(redis, {}, words);

        // Told explicitly (benchmarks), it starts.
        server_process ok(redis, {"--allow-unsafe-redis"});
        EXPECT_GT(ok.port(), 0);
    }
}

TEST_F(resilience, RecordsTheKeyLayoutAndRefusesDataOfAnother) {
    redis_server redis;
    // Another application's keys are no obstacle, nor a directory listed before the first start
    // (confide-admin): the first start records layout 4 (sealed: server_args has a key file).
    redis.command({"SET", "someone:else", "1"});
    redis.command({"HSET", "cf:u:{dr.who}:profile", "name", "Dr Who", "accepting", "1"});
    redis.command({"ZADD", "cf:directory", "0", "dr.who"});
    redis.command({"INCR", "cf:directory:version"});
    {
        server_process first(redis);
        EXPECT_GT(first.port(), 0);
    }
    EXPECT_EQ(redis.command({"GET", "cf:layout"}), "4");
    const auto refused = [&](const std::string& words) {
        expect_refusal(redis, {"--allow-unsafe-redis"}, words);
    };
    // Another version: refused, whatever the flags.
    redis.command({"SET", "cf:layout", "2"});
    refused("layout 2");
    // Layout 3 (no retention index: its conversations would never be trimmed): refused too.
    redis.command({"SET", "cf:layout", "3"});
    refused("layout 3");
    // Plaintext data (--allow-plaintext-storage) is not read by a server that seals.
    redis.command({"SET", "cf:layout", "4-plaintext"});
    refused("stored in plaintext");
    // Confide data without a version (a server before layout versions): refused.
    redis.command({"DEL", "cf:layout"});
    redis.command({"HSET", "cf:u:{alice}", "role", "client", "n", "4"});
    refused("layout 1");
    EXPECT_EQ(redis.command({"GET", "cf:layout"}), "(nil)") << "nothing written";
}

}  // namespace
}  // namespace confide::test

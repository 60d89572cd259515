#include "helpers.hpp"

#include "store/redis/script.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>

#include <string>
#include <vector>

namespace confide::store::redis {
namespace {

using namespace test_helpers;

class script_test : public ::testing::Test {
protected:
    io_threads io_{2};
    test::redis_server redis_;

    std::shared_ptr<connection> connect() {
        auto connected = std::make_shared<counter>();
        auto conn = start_connection(io_.get(), test_config(redis_), connected);
        EXPECT_TRUE(connected->wait_for(1, 10s));
        return conn;
    }

    result run(const script& s, std::shared_ptr<connection> conn, std::vector<std::string> keys,
               std::vector<std::string> args) {
        auto body = [](const script& sc, std::shared_ptr<connection> c, std::vector<std::string> k,
                       std::vector<std::string> a) -> awaitable<result> {
            co_return co_await sc.run(*c, std::move(k), std::move(a));
        };
        auto f =
            asio::co_spawn(io_.get(), body(s, std::move(conn), std::move(keys), std::move(args)),
                           asio::use_future);
        if (f.wait_for(10s) != std::future_status::ready) {
            ADD_FAILURE() << "the script did not complete";
            return {};
        }
        return f.get();
    }

    // How many times Redis ran `command` (from INFO commandstats).
    long calls(const std::string& command) {
        const auto info = redis_.command({"INFO", "commandstats"});
        const std::string tag = "cmdstat_" + command + ":calls=";
        const auto at = info.find(tag);
        if (at == std::string::npos) {
            return 0;
        }
        return std::stol(info.substr(at + tag.size()));
    }
};

TEST_F(script_test, sha1_is_the_one_redis_computes) {
    const script s("return redis.call('GET', KEYS[1])");
    EXPECT_EQ(s.sha1().size(), 40u);
    EXPECT_EQ(redis_.command({"SCRIPT", "LOAD", s.body()}), s.sha1());
}

TEST_F(script_test, falls_back_to_eval_on_noscript) {
    auto conn = connect();
    const script s("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])");

    auto [ec, r] = run(s, conn, {"k"}, {"first"});  // not cached yet: EVALSHA, then EVAL
    EXPECT_FALSE(ec) << ec.message() << " " << r.str;
    EXPECT_EQ(r.str, "first");
    EXPECT_EQ(calls("evalsha"), 1);
    EXPECT_EQ(calls("eval"), 1);

    std::tie(ec, r) = run(s, conn, {"k"}, {"second"});  // cached by the EVAL
    EXPECT_EQ(r.str, "second");
    EXPECT_EQ(calls("evalsha"), 2);
    EXPECT_EQ(calls("eval"), 1);

    EXPECT_EQ(redis_.command({"SCRIPT", "FLUSH"}), "OK");
    std::tie(ec, r) = run(s, conn, {"k"}, {"third"});
    EXPECT_FALSE(ec) << r.str;
    EXPECT_EQ(r.str, "third");
    EXPECT_EQ(calls("evalsha"), 3);
    EXPECT_EQ(calls("eval"), 2);
}

TEST_F(script_test, script_errors_are_server_errors) {
    auto conn = connect();
    const script s("return redis.error_reply('MYERR ' .. ARGV[1])");
    auto [ec, r] = run(s, conn, {}, {"boom"});
    EXPECT_EQ(ec, errc::server_error);
    EXPECT_TRUE(r.str.starts_with("MYERR boom")) << r.str;
}

TEST_F(script_test, fails_like_a_command_when_not_connected) {
    auto conn = connection::create(io_.get(), test_config(redis_));
    const script s("return 1");
    auto [ec, r] = run(s, conn, {}, {});
    EXPECT_EQ(ec, errc::not_connected);
}

}  // namespace
}  // namespace confide::store::redis

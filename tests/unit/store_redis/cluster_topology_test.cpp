#include "store/redis/cluster_topology.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace confide::store::redis {
namespace {

// Expected values are what `CLUSTER KEYSLOT` answers on Redis 7.0.15.
TEST(key_slot, matches_cluster_keyslot) {
    const std::vector<std::pair<std::string, std::uint16_t>> known = {
        {"", 0},
        {"a", 15495},
        {"foo", 12182},
        {"bar", 5061},
        {"123456789", 12739},  // CRC16/XMODEM check value 0x31c3
        {"héllo", 11061},
        {std::string("a\0b", 3), 8383},
        {"cf:u:{u:alice}:inbox", 5797},
    };
    for (const auto& [key, slot] : known) {
        EXPECT_EQ(key_slot(key), slot) << key;
    }
}

TEST(key_slot, hashes_only_the_first_non_empty_hash_tag) {
    EXPECT_EQ(key_slot("{user1000}.following"), 3443);
    EXPECT_EQ(key_slot("{user1000}.followers"), 3443);
    EXPECT_EQ(key_slot("cf:n:{u:alice}"), key_slot("cf:u:{u:alice}:inbox"));
    EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));  // the first tag only
    EXPECT_EQ(key_slot("foo{{bar}}zap"), 4015);             // the tag is "{bar"
    // An empty or unclosed tag: the whole key.
    EXPECT_EQ(key_slot("foo{}{bar}"), 8363);
    EXPECT_EQ(key_slot("{}"), 15257);
    EXPECT_EQ(key_slot("{"), 4092);
    EXPECT_EQ(key_slot("}{x}"), 16287);
}

TEST(parse_node_address, host_and_port) {
    EXPECT_EQ(parse_node_address("127.0.0.1:7000"), (node_address{"127.0.0.1", 7000}));
    EXPECT_EQ(parse_node_address("redis-1.example:6379"), (node_address{"redis-1.example", 6379}));
    EXPECT_EQ(parse_node_address("[::1]:7000"), (node_address{"::1", 7000}));
    EXPECT_EQ(parse_node_address(":7000"), (node_address{"", 7000}));
    EXPECT_EQ(parse_node_address("127.0.0.1"), std::nullopt);
    EXPECT_EQ(parse_node_address("127.0.0.1:0"), std::nullopt);
    EXPECT_EQ(parse_node_address("127.0.0.1:70000"), std::nullopt);
    EXPECT_EQ(parse_node_address("127.0.0.1:7x"), std::nullopt);
    EXPECT_EQ((node_address{"127.0.0.1", 7000}).to_string(), "127.0.0.1:7000");
}

TEST(parse_redirect, moved_and_ask) {
    auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381", "10.0.0.1");
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->type, redirect::kind::moved);
    EXPECT_EQ(moved->slot, 3999);
    EXPECT_EQ(moved->target, (node_address{"127.0.0.1", 6381}));

    auto ask = parse_redirect("ASK 16383 10.0.0.2:7002", "10.0.0.1");
    ASSERT_TRUE(ask);
    EXPECT_EQ(ask->type, redirect::kind::ask);
    EXPECT_EQ(ask->slot, 16383);
    EXPECT_EQ(ask->target, (node_address{"10.0.0.2", 7002}));

    // Redis 7 leaves the host out when the node's endpoint is unknown: the node asked.
    auto same_host = parse_redirect("MOVED 1 :7005", "10.0.0.1");
    ASSERT_TRUE(same_host);
    EXPECT_EQ(same_host->target, (node_address{"10.0.0.1", 7005}));
}

TEST(parse_redirect, other_errors_are_not_redirections) {
    EXPECT_FALSE(parse_redirect("ERR unknown command", "h"));
    EXPECT_FALSE(parse_redirect("MOVED", "h"));
    EXPECT_FALSE(parse_redirect("MOVED 16384 127.0.0.1:6381", "h"));
    EXPECT_FALSE(parse_redirect("MOVED x 127.0.0.1:6381", "h"));
    EXPECT_FALSE(parse_redirect("ASK 1 127.0.0.1", "h"));
    EXPECT_FALSE(parse_redirect("TRYAGAIN Multiple keys request during rehashing of slot", "h"));
}

TEST(is_retryable_cluster_error, tryagain_and_clusterdown_only) {
    EXPECT_TRUE(is_retryable_cluster_error("TRYAGAIN Multiple keys request during rehashing"));
    EXPECT_TRUE(is_retryable_cluster_error("CLUSTERDOWN The cluster is down"));
    EXPECT_FALSE(is_retryable_cluster_error("MOVED 1 127.0.0.1:7000"));
    EXPECT_FALSE(is_retryable_cluster_error("LOADING Redis is loading the dataset in memory"));
    EXPECT_FALSE(is_retryable_cluster_error("OOM command not allowed"));
}

reply str(std::string s) {
    reply r;
    r.type = reply::kind::string;
    r.str = std::move(s);
    return r;
}
reply integer(std::int64_t n) {
    reply r;
    r.type = reply::kind::integer;
    r.integer = n;
    return r;
}
reply array(std::vector<reply> elements) {
    reply r;
    r.type = reply::kind::array;
    r.elements = std::move(elements);
    return r;
}
reply node(std::string ip, std::int64_t port) {
    // Redis 7 adds an id and a (here empty) map of metadata.
    return array({str(std::move(ip)), integer(port), str("a1b2c3"), array({})});
}

TEST(parse_cluster_slots, maps_every_range_to_its_master) {
    const auto r = array({
        array({integer(0), integer(5460), node("127.0.0.1", 7000), node("127.0.0.1", 7003)}),
        array({integer(5461), integer(10922), node("127.0.0.1", 7001)}),
        array({integer(10923), integer(16000), node("", 7002), node("127.0.0.1", 7004)}),
        array({integer(16001), integer(16383), node("127.0.0.1", 7000)}),
    });
    const auto map = parse_cluster_slots(r, "127.0.0.9");
    ASSERT_TRUE(map);
    ASSERT_EQ(map->masters.size(), 3u);  // 7000 once although it serves two ranges
    EXPECT_EQ(*map->owner_of(0), (node_address{"127.0.0.1", 7000}));
    EXPECT_EQ(*map->owner_of(5460), (node_address{"127.0.0.1", 7000}));
    EXPECT_EQ(*map->owner_of(5461), (node_address{"127.0.0.1", 7001}));
    EXPECT_EQ(*map->owner_of(12000),
              (node_address{"127.0.0.9", 7002}));  // empty ip: the node asked
    EXPECT_EQ(*map->owner_of(16383), (node_address{"127.0.0.1", 7000}));
    EXPECT_EQ(map->replicas, (std::vector<node_address>{{"127.0.0.1", 7003}, {"127.0.0.1", 7004}}));
}

TEST(parse_cluster_slots, slots_without_a_known_master_have_no_owner) {
    const auto r = array({
        array({integer(0), integer(99), node("127.0.0.1", 7000)}),
        array({integer(100), integer(199), node("?", 7001)}),
    });
    const auto map = parse_cluster_slots(r, "h");
    ASSERT_TRUE(map);
    EXPECT_NE(map->owner_of(99), nullptr);
    EXPECT_EQ(map->owner_of(100), nullptr);
    EXPECT_EQ(map->owner_of(200), nullptr);  // not covered
}

TEST(parse_cluster_slots, refuses_other_shapes) {
    EXPECT_FALSE(parse_cluster_slots(str("OK"), "h"));
    EXPECT_FALSE(parse_cluster_slots(array({array({integer(0)})}), "h"));
    EXPECT_FALSE(parse_cluster_slots(array({array({integer(10), integer(5), node("h", 1)})}), "h"));
    EXPECT_FALSE(
        parse_cluster_slots(array({array({integer(0), integer(16384), node("h", 1)})}), "h"));
    // An empty reply is a valid map without masters (a cluster not set up yet).
    const auto empty = parse_cluster_slots(array({}), "h");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->masters.empty());
}

}  // namespace
}  // namespace confide::store::redis

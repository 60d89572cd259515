// Where store::db sends a command on a Redis Cluster: the slot of its key.

#include "store/db.hpp"
#include "store/keys.hpp"
#include "store/redis/cluster_topology.hpp"

#include <gtest/gtest.h>

namespace confide::store {
namespace {

TEST(db, CommandsAreRoutedByTheirKey) {
    EXPECT_EQ(routing_key({"HGET", "cf:c:{1}", "client"}), "cf:c:{1}");
    EXPECT_EQ(routing_key({"XINFO", "STREAM", "cf:u:{a}:inbox"}), "cf:u:{a}:inbox");
    EXPECT_EQ(routing_key({"XREAD", "COUNT", "10", "STREAMS", "k", "0-0"}), "k");
    EXPECT_EQ(routing_key({"xread", "streams", "k2", "0-0"}), "k2");
    EXPECT_EQ(routing_key({"EVALSHA", "sha", "2", "cf:c:{1}", "cf:c:{1}:log", "x"}), "cf:c:{1}");
    EXPECT_EQ(routing_key({"SPUBLISH", keys::channel("a"), "payload"}), "cf:n:{a}");
    EXPECT_EQ(routing_key({"PING"}), "PING");
    EXPECT_EQ(routing_key({}), "");
}

TEST(db, AUsersShardChannelIsInTheSlotOfTheUsersKeys) {
    for (const char* user : {"alice", "dr.bob", "u:x", "{odd}"}) {
        const auto slot = redis::key_slot(keys::inbox(user));
        EXPECT_EQ(redis::key_slot(keys::channel(user)), slot) << user;
        EXPECT_EQ(redis::key_slot(keys::appended(user)), slot) << user;
        EXPECT_EQ(redis::key_slot(keys::conversation(user)),
                  redis::key_slot(keys::conversation_log(user)));
    }
}

TEST(db, EveryStepsKeysShareTheirSlot) {
    // An inquiry's claim: the record and the client's open conversations; a user step: the
    // stream, the appended hash, the conversation list, contacts, open conversations and
    // inquiries.
    const auto user = redis::key_slot(keys::inbox("alice"));
    for (const auto& key : {keys::inquiry_record("alice", "q1"), keys::open_with("alice"),
                            keys::conversations("alice"), keys::contacts("alice"),
                            keys::inquiries("alice"), keys::acks("alice")}) {
        EXPECT_EQ(redis::key_slot(key), user) << key;
    }
    // A reminder's marker is in the reminder stream's slot, whatever the conversation.
    for (const char* member : {"c1|c", "{x}|s", "a}b|c"}) {
        EXPECT_EQ(redis::key_slot(keys::reminder_sent(member, "1700000000000")),
                  redis::key_slot(keys::reminders()))
            << member;
    }
}

}  // namespace
}  // namespace confide::store

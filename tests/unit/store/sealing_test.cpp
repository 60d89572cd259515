// store::sealer: what the store seals and opens, without Redis (docs/design.md, "Encryption at
// rest"): a value opens only in its place, the data keys are cached, plaintext storage keeps
// text as it is, and a conversation's sealed fields open in place.

#include "store/sealing.hpp"

#include "../crypto/rings.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace confide::store {
namespace {

TEST(sealer, a_value_opens_only_in_its_place) {
    sealer s(crypto::test::ring_k1());
    ASSERT_TRUE(s.seals());
    auto created = s.create_key("c1");
    ASSERT_TRUE(created);
    ASSERT_TRUE(created->key);
    EXPECT_FALSE(created->wrapped.empty());
    const auto* key = created->key.get();
    auto sealed = s.seal(key, {"c1", 7, "alice"}, "I need help");
    ASSERT_TRUE(sealed);
    EXPECT_EQ(sealed->find("I need help"), std::string::npos);
    auto opened = s.open(key, {"c1", 7, "alice"}, *sealed);
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, "I need help");
    // Another seq, sender, conversation or field: refused.
    EXPECT_FALSE(s.open(key, {"c1", 8, "alice"}, *sealed));
    EXPECT_FALSE(s.open(key, {"c1", 7, "bob"}, *sealed));
    EXPECT_FALSE(s.open(key, {"c2", 7, "alice"}, *sealed));
    EXPECT_FALSE(s.open(key, {"c1", 0, "topic"}, *sealed));
    // Without a key: refused, never the text.
    EXPECT_FALSE(s.open(nullptr, {"c1", 7, "alice"}, *sealed));
}

TEST(sealer, a_wrapped_key_opens_for_its_conversation_and_is_cached) {
    sealer writer(crypto::test::ring_k1());
    auto created = writer.create_key("c1");
    ASSERT_TRUE(created);
    auto sealed = writer.seal(created->key.get(), {"c1", 1, "alice"}, "hello");
    ASSERT_TRUE(sealed);

    sealer reader(crypto::test::ring_k1());  // another node, same key file
    EXPECT_EQ(reader.find("c1"), nullptr);
    EXPECT_FALSE(reader.open_key("c2", created->wrapped)) << "bound to its conversation";
    auto key = reader.open_key("c1", created->wrapped);
    ASSERT_TRUE(key);
    EXPECT_EQ(reader.find("c1"), *key);
    auto opened = reader.open(key->get(), {"c1", 1, "alice"}, *sealed);
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, "hello");

    sealer other(crypto::test::ring_k2());  // a key file without k1
    EXPECT_FALSE(other.open_key("c1", created->wrapped));
}

TEST(sealer, fingerprints_are_keyed) {
    const sealer a(crypto::test::ring_k1());
    const sealer plain(std::nullopt);
    EXPECT_EQ(a.fingerprint({"send", "c1", "yes"}), a.fingerprint({"send", "c1", "yes"}));
    EXPECT_NE(a.fingerprint({"send", "c1", "yes"}), a.fingerprint({"send", "c1", "no"}));
    EXPECT_NE(a.fingerprint({"send", "c1", "yes"}), plain.fingerprint({"send", "c1", "yes"}));
    EXPECT_EQ(a.fingerprint({"send", "c1", "yes"}).size(), 32u);
}

TEST(sealer, plaintext_storage_keeps_text_as_it_is) {
    sealer s(std::nullopt);
    EXPECT_FALSE(s.seals());
    auto created = s.create_key("c1");
    ASSERT_TRUE(created);
    EXPECT_EQ(created->key, nullptr);
    EXPECT_TRUE(created->wrapped.empty());
    EXPECT_EQ(*s.seal(nullptr, {"c1", 1, "alice"}, "hello"), "hello");
    EXPECT_EQ(*s.open(nullptr, {"c1", 1, "alice"}, "hello"), "hello");
}

TEST(sealer, a_conversations_sealed_fields_open_in_place) {
    sealer s(crypto::test::ring_k1());
    auto created = s.create_key("c1");
    ASSERT_TRUE(created);
    const auto* key = created->key.get();
    const auto topic = *s.seal(key, {"c1", 0, "topic"}, "Sleep");
    const auto pref = *s.seal(key, {"c1", 0, "pref"}, "1-2");
    std::vector<std::string_view> flat{"state", "inquiry", "topic", topic, "pref", pref};
    std::array<std::string, 2> opened;
    ASSERT_TRUE(open_conversation_fields(s, key, "c1", flat, opened));
    EXPECT_EQ(flat[3], "Sleep");
    EXPECT_EQ(flat[5], "1-2");
    // Swapped fields: refused.
    std::vector<std::string_view> swapped{"topic", pref, "pref", topic};
    EXPECT_FALSE(open_conversation_fields(s, key, "c1", swapped, opened));
    // Empty (none given): left as it is.
    std::vector<std::string_view> none{"topic", "", "pref", ""};
    EXPECT_TRUE(open_conversation_fields(s, key, "c1", none, opened));
}

}  // namespace
}  // namespace confide::store

#include "crypto/data_key.hpp"
#include "crypto/record.hpp"
#include "rings.hpp"

#include <gtest/gtest.h>

namespace confide::crypto {
namespace {

using test::hex_key;

data_key must_generate(std::string_view id) {
    auto k = generate_data_key(id);
    EXPECT_TRUE(k) << k.error().message();
    return *k;
}

std::string must_wrap(const kek_ring& ring, const data_key& k, std::string_view owner) {
    auto w = wrap_data_key(ring, k, owner);
    EXPECT_TRUE(w) << w.error().message();
    return *w;
}

TEST(DataKey, GeneratedKeysAreFreshAndNamed) {
    const auto a = must_generate("1");
    const auto b = must_generate("1");
    EXPECT_EQ(a.id, "1");
    EXPECT_FALSE(a.secret.equals(b.secret));
    EXPECT_EQ(generate_data_key("").error(), errc::bad_id);
    EXPECT_EQ(generate_data_key(std::string(33, 'x')).error(), errc::bad_id);
    EXPECT_EQ(generate_data_key("a b").error(), errc::bad_id);
}

TEST(DataKey, WrapsUnderTheCurrentKekAndUnwraps) {
    const auto ring = test::ring_k1_k2();
    const auto key = must_generate("7");
    const auto wrapped = must_wrap(ring, key, "conv-a");
    // The clear key is nowhere in its wrapped form.
    const std::string clear(reinterpret_cast<const char*>(key.secret.data()), key.secret.size());
    EXPECT_EQ(wrapped.find(clear), std::string::npos);
    EXPECT_EQ(wrapped.size(), 63u + 2 + 1);

    auto info = inspect_wrapped(wrapped);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->kek_id, "k2");
    EXPECT_EQ(info->data_key_id, "7");

    auto back = unwrap_data_key(ring, wrapped, "conv-a");
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->id, "7");
    EXPECT_TRUE(back->secret.equals(key.secret));

    // Two wraps of one key differ (a fresh nonce each).
    EXPECT_NE(must_wrap(ring, key, "conv-a"), wrapped);
}

TEST(DataKey, AWrappedKeyMovedToAnotherOwnerIsRefused) {
    const auto ring = test::ring_k1();
    const auto wrapped = must_wrap(ring, must_generate("1"), "conv-a");
    EXPECT_EQ(unwrap_data_key(ring, wrapped, "conv-b").error(), errc::refused);
    EXPECT_EQ(unwrap_data_key(ring, wrapped, "").error(), errc::refused);
}

TEST(DataKey, EveryFlippedByteIsRefused) {
    const auto ring = test::ring_k1_k2();
    const auto wrapped = must_wrap(ring, must_generate("1"), "conv-a");
    for (std::size_t i = 0; i < wrapped.size(); ++i) {
        for (unsigned char bit : {0x01, 0x80}) {
            std::string bad = wrapped;
            bad[i] = static_cast<char>(bad[i] ^ bit);
            auto r = unwrap_data_key(ring, bad, "conv-a");
            EXPECT_FALSE(r) << "byte " << i << " bit " << int(bit);
        }
    }
    // Truncated or extended.
    for (std::size_t n = 0; n < wrapped.size(); ++n) {
        EXPECT_FALSE(unwrap_data_key(ring, wrapped.substr(0, n), "conv-a")) << n;
    }
    EXPECT_EQ(unwrap_data_key(ring, wrapped + "x", "conv-a").error(), errc::malformed);
}

TEST(DataKey, TheKekIdDecidesWhichKekIsTried) {
    // Renaming the KEK in the header to another one of the ring: that KEK cannot open it.
    const auto ring = test::ring_k1_k2();
    auto wrapped = must_wrap(ring, must_generate("1"), "conv-a");
    ASSERT_EQ(wrapped.substr(2, 2), "k2");
    wrapped[3] = '1';
    EXPECT_EQ(unwrap_data_key(ring, wrapped, "conv-a").error(), errc::refused);
    wrapped[3] = '9';
    EXPECT_EQ(unwrap_data_key(ring, wrapped, "conv-a").error(), errc::unknown_key);
    wrapped[0] = 0x02;
    EXPECT_EQ(unwrap_data_key(ring, wrapped, "conv-a").error(), errc::unsupported_version);
}

TEST(DataKey, AnotherKeyUnderTheSameKekIdIsRefused) {
    const auto wrapped = must_wrap(test::ring_k1(), must_generate("1"), "conv-a");
    const auto impostor = kek_ring::parse(
        "kek k1 " + hex_key(0x99) + "\ncurrent k1\nfingerprint " + hex_key(0xf1), "other");
    EXPECT_EQ(unwrap_data_key(impostor, wrapped, "conv-a").error(), errc::refused);
}

// A rotation as an operator does it: add a new KEK as current, rewrap every data key, remove the
// old KEK. Records sealed before it stay readable throughout.
TEST(DataKey, RotationKeepsEveryRecordReadable) {
    const auto key = must_generate("1");
    const record_context ctx{"conv-a", 1, "alice"};
    auto record = seal_record(key, ctx, "before the rotation");
    ASSERT_TRUE(record);
    const auto old_wrapped = must_wrap(test::ring_k1(), key, "conv-a");

    // 1. New KEK added and current: the old wrapped key still opens; new keys go under k2.
    const auto during = test::ring_k1_k2();
    auto unwrapped = unwrap_data_key(during, old_wrapped, "conv-a");
    ASSERT_TRUE(unwrapped);
    EXPECT_EQ(*open_record(*unwrapped, ctx, *record), "before the rotation");
    EXPECT_EQ(inspect_wrapped(must_wrap(during, must_generate("2"), "conv-b"))->kek_id, "k2");

    // 2. Rewrap: now under k2, the same data key.
    auto rewrapped = rewrap_data_key(during, old_wrapped, "conv-a");
    ASSERT_TRUE(rewrapped) << rewrapped.error().message();
    EXPECT_EQ(inspect_wrapped(*rewrapped)->kek_id, "k2");
    EXPECT_EQ(inspect_wrapped(*rewrapped)->data_key_id, "1");
    // Rewrapping again changes nothing.
    EXPECT_EQ(*rewrap_data_key(during, *rewrapped, "conv-a"), *rewrapped);

    // 3. Old KEK removed: the rewrapped key opens, and so does every record; the old wrapped
    // form no longer does.
    const auto after = test::ring_k2();
    auto opened = unwrap_data_key(after, *rewrapped, "conv-a");
    ASSERT_TRUE(opened) << opened.error().message();
    EXPECT_EQ(*open_record(*opened, ctx, *record), "before the rotation");
    EXPECT_EQ(unwrap_data_key(after, old_wrapped, "conv-a").error(), errc::unknown_key);
    EXPECT_EQ(rewrap_data_key(after, old_wrapped, "conv-a").error(), errc::unknown_key);
}

TEST(DataKey, RewrapChecksBeforeItSkips) {
    // A damaged key already under the current KEK is reported, not passed on as rewrapped.
    const auto ring = test::ring_k1();
    auto wrapped = must_wrap(ring, must_generate("1"), "conv-a");
    wrapped.back() = static_cast<char>(wrapped.back() ^ 1);
    EXPECT_EQ(rewrap_data_key(ring, wrapped, "conv-a").error(), errc::refused);
}

}  // namespace
}  // namespace confide::crypto

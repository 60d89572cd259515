#include "crypto/record.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace confide::crypto {
namespace {

data_key key_named(std::string_view id) {
    auto k = generate_data_key(id);
    EXPECT_TRUE(k);
    return *k;
}

class Record : public ::testing::Test {
protected:
    const data_key key_ = key_named("1");
    const record_context ctx_{"conv-a", 42, "alice"};
    const std::string body_ = "I could not sleep again last night; the panic came back at 3 am.";

    std::string seal(std::string_view body) {
        auto r = seal_record(key_, ctx_, body);
        EXPECT_TRUE(r) << r.error().message();
        return *r;
    }
};

TEST_F(Record, SealsAndOpens) {
    for (const std::string& body : {std::string(), std::string("x"), body_, std::string(8192, 'b'),
                                    std::string("\0\xff binary", 9)}) {
        const auto record = seal(body);
        EXPECT_EQ(record.size(), body.size() + record_overhead(1));
        auto opened = open_record(key_, ctx_, record);
        ASSERT_TRUE(opened) << opened.error().message();
        EXPECT_EQ(*opened, body);
    }
}

TEST_F(Record, EverySealHasItsOwnNonceAcrossRefillsOfTheNoncePool) {
    // Nonces come from a per-thread pool refilled every 64 seals: 300 seals cross several
    // refills, and no nonce (the 12 bytes after the version and the key id) repeats. Each also
    // opens on another thread, whose pool is its own.
    std::set<std::string> nonces;
    std::vector<std::string> records;
    for (int i = 0; i < 300; ++i) {
        records.push_back(seal(body_));
        nonces.insert(records.back().substr(3, 12));
    }
    EXPECT_EQ(nonces.size(), records.size());
    std::thread other([&] {
        for (const auto& r : records) {
            auto opened = open_record(key_, ctx_, r);
            ASSERT_TRUE(opened);
            EXPECT_EQ(*opened, body_);
        }
        EXPECT_TRUE(nonces.insert(seal(body_).substr(3, 12)).second);
    });
    other.join();
}

TEST_F(Record, ManyKeysInTurnEachOpensOnlyItsOwnRecords) {
    // A thread keeps cipher contexts for 64 keys (by the key's first byte): 200 keys share those
    // slots, and a context must never serve another key than the one it was set up with.
    std::vector<data_key> keys;
    std::vector<std::string> records;
    for (int i = 0; i < 200; ++i) {
        keys.push_back(key_named("1"));
        auto r = seal_record(keys.back(), ctx_, body_ + std::to_string(i));
        ASSERT_TRUE(r);
        records.push_back(std::move(*r));
    }
    for (int i = 199; i >= 0; --i) {
        const auto own = static_cast<std::size_t>(i);
        auto opened = open_record(keys[own], ctx_, records[own]);
        ASSERT_TRUE(opened) << i;
        EXPECT_EQ(*opened, body_ + std::to_string(i));
        // The same key id, another key: refused, whichever slot either key uses.
        EXPECT_EQ(open_record(keys[(own + 1) % keys.size()], ctx_, records[own]).error(),
                  errc::refused)
            << i;
        // And the right key again after the refusal.
        EXPECT_TRUE(open_record(keys[own], ctx_, records[own])) << i;
    }
}

TEST_F(Record, HidesThePlaintextAndNamesItsKey) {
    const auto a = seal(body_);
    const auto b = seal(body_);
    EXPECT_NE(a, b);  // a fresh nonce each time
    EXPECT_EQ(a.find("panic"), std::string::npos);
    EXPECT_EQ(a[0], '\x01');
    EXPECT_EQ(*record_key_id(a), "1");
    const auto named = seal_record(key_named("conv-key.2025"), ctx_, body_);
    EXPECT_EQ(*record_key_id(*named), "conv-key.2025");
}

TEST_F(Record, EveryFlippedByteIsRefused) {
    const auto record = seal(body_);
    for (std::size_t i = 0; i < record.size(); ++i) {
        for (unsigned char bit : {0x01, 0x10, 0x80}) {
            std::string bad = record;
            bad[i] = static_cast<char>(bad[i] ^ bit);
            auto r = open_record(key_, ctx_, bad);
            ASSERT_FALSE(r) << "byte " << i << " bit " << int(bit) << " was accepted";
        }
    }
}

TEST_F(Record, FlipsInEachPartGiveTheirReason) {
    const auto record = seal(body_);
    auto flip = [&](std::size_t at) {
        std::string bad = record;
        bad[at] = static_cast<char>(bad[at] ^ 1);
        return open_record(key_, ctx_, bad).error();
    };
    EXPECT_EQ(flip(0), errc::unsupported_version);      // version
    EXPECT_EQ(flip(1), errc::malformed);                // id length: the rest no longer fits
    EXPECT_EQ(flip(2), errc::wrong_key);                // key id "1" -> "0"
    EXPECT_EQ(flip(3), errc::refused);                  // nonce
    EXPECT_EQ(flip(3 + 12), errc::refused);             // ciphertext
    EXPECT_EQ(flip(record.size() - 1), errc::refused);  // tag
}

TEST_F(Record, TruncatedOrExtendedIsRefused) {
    const auto record = seal(body_);
    for (std::size_t n = 0; n < record.size(); ++n) {
        EXPECT_FALSE(open_record(key_, ctx_, record.substr(0, n))) << n;
    }
    EXPECT_EQ(open_record(key_, ctx_, record + "x").error(), errc::refused);
}

TEST_F(Record, MovedToAnotherRecordIsRefused) {
    const auto record = seal(body_);
    const record_context others[] = {
        {"conv-b", 42, "alice"},  // another conversation
        {"conv-a", 43, "alice"},  // another seq
        {"conv-a", 42, "bob"},    // another sender
        {"conv-a", 0, "alice"},   //
        {"conv-aa", 42, "lice"},  // the same bytes, cut elsewhere
        {"conv-", 42, "aalice"},  //
        {"", 42, "conv-aalice"},  //
        {"conv-a", 42u + (1ull << 32), "alice"},
    };
    for (const auto& other : others) {
        EXPECT_EQ(open_record(key_, other, record).error(), errc::refused)
            << other.conversation_id << "/" << other.seq << "/" << other.sender_id;
    }
}

TEST_F(Record, WrongKeyIsRefused) {
    const auto record = seal(body_);
    // Another secret under the same id: the tag does not match.
    EXPECT_EQ(open_record(key_named("1"), ctx_, record).error(), errc::refused);
    // Another id: not even tried.
    EXPECT_EQ(open_record(key_named("2"), ctx_, record).error(), errc::wrong_key);
}

TEST_F(Record, ReaderOfAnUnknownFormatSaysSo) {
    EXPECT_EQ(record_key_id("").error(), errc::malformed);
    EXPECT_EQ(record_key_id(std::string("\x02\x01"
                                        "1",
                                        3) +
                            std::string(28, 'x'))
                  .error(),
              errc::unsupported_version);
    EXPECT_EQ(record_key_id(std::string("\x01\x00", 2) + std::string(28, 'x')).error(),
              errc::malformed);  // an empty key id
    EXPECT_EQ(record_key_id(std::string("\x01\x01/", 3) + std::string(28, 'x')).error(),
              errc::malformed);  // not an id character
    EXPECT_EQ(seal_record(data_key{"", key_.secret}, ctx_, body_).error(), errc::bad_id);
}

}  // namespace
}  // namespace confide::crypto

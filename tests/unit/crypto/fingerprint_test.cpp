#include "crypto/fingerprint.hpp"
#include "crypto/key_ring.hpp"
#include "rings.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace confide::crypto {
namespace {

// The same HMAC computed independently (OpenSSL's one-shot EVP_Q_mac over the encoding written
// out by hand), so that the test does not check the class against itself.
std::string expected(std::string_view key_hex, const std::string& encoded) {
    auto key = secret_key::from_hex(key_hex);
    unsigned char out[32];
    std::size_t len = 0;
    char digest[] = "SHA256";
    EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key->data(), key->size(),
                        reinterpret_cast<const unsigned char*>(encoded.data()), encoded.size(), out,
                        sizeof out, &len),
              nullptr);
    return to_hex(std::string_view(reinterpret_cast<const char*>(out), 16));
}

std::string length8(std::size_t n) {
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i, n >>= 8) {
        s[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xff);
    }
    return s;
}

TEST(Fingerprint, IsTheHmacOfTheLengthPrefixedParts) {
    const auto ring = test::ring_k1();
    const fingerprinter fp(ring.fingerprint_key());
    auto got = fp({"conv-a", "hello"});
    ASSERT_TRUE(got);
    EXPECT_EQ(got->size(), 32u);
    EXPECT_EQ(*got, expected(test::hex_key(0xf1), length8(6) + "conv-a" + length8(5) + "hello"));
}

TEST(Fingerprint, DependsOnKeyPartsAndTheirBoundaries) {
    const fingerprinter a(*secret_key::from_hex(test::hex_key(0x01)));
    const fingerprinter b(*secret_key::from_hex(test::hex_key(0x02)));
    EXPECT_EQ(*a({"c", "yes"}), *a({"c", "yes"}));
    EXPECT_NE(*a({"c", "yes"}), *b({"c", "yes"}));
    EXPECT_NE(*a({"c", "yes"}), *a({"c", "no"}));
    EXPECT_NE(*a({"ab", "c"}), *a({"a", "bc"}));
    EXPECT_NE(*a({"abc"}), *a({"abc", ""}));
    // No parts: the HMAC of nothing.
    EXPECT_EQ(*a({}), expected(test::hex_key(0x01), ""));
}

TEST(Fingerprint, ManyFingerprintersInTurnEachUseTheirOwnKey) {
    // A thread keeps a working copy per fingerprinter in a few slots: nine fingerprinters share
    // them, called in turn, repeatedly and after others were destroyed; each must give the HMAC
    // under its own key every time.
    for (int round = 0; round < 3; ++round) {
        std::vector<std::unique_ptr<fingerprinter>> fps;
        for (int k = 1; k <= 9; ++k) {
            fps.push_back(std::make_unique<fingerprinter>(
                *secret_key::from_hex(test::hex_key(static_cast<unsigned char>(k + 16 * round)))));
        }
        for (int pass = 0; pass < 3; ++pass) {
            for (int k = 1; k <= 9; ++k) {
                const auto got = (*fps[static_cast<std::size_t>(k - 1)])({"c", "yes"});
                ASSERT_TRUE(got);
                EXPECT_EQ(*got, expected(test::hex_key(static_cast<unsigned char>(k + 16 * round)),
                                         length8(1) + "c" + length8(3) + "yes"))
                    << "round " << round << ", fingerprinter " << k;
            }
        }
    }
}

TEST(Fingerprint, OneFingerprinterServesManyThreads) {
    const fingerprinter fp(*secret_key::from_hex(test::hex_key(0x07)));
    const std::string want = *fp({"conv", "body"});
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                auto got = fp({"conv", "body"});
                if (!got || *got != want) {
                    ++wrong;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace confide::crypto

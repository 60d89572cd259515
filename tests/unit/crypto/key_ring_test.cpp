#include "crypto/key_ring.hpp"
#include "rings.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

namespace confide::crypto {
namespace {

using test::hex_key;

std::string error_of(const std::string& text) {
    try {
        kek_ring::parse(text, "keys");
    } catch (const key_file_error& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(KekRing, ParsesKeysCurrentAndFingerprint) {
    const auto ring = kek_ring::parse(
        "# a comment\n\n"
        "kek old-1 " +
            hex_key(0x11) +
            "   # trailing comment\r\n"
            "kek new.2 " +
            hex_key(0x22) +
            "\n"
            "current new.2\n"
            "fingerprint " +
            hex_key(0xf1) + "\n",
        "keys");
    EXPECT_EQ(ring.ids(), (std::vector<std::string>{"old-1", "new.2"}));
    EXPECT_EQ(ring.current_id(), "new.2");
    EXPECT_EQ(ring.current().hex(), hex_key(0x22));
    ASSERT_NE(ring.find("old-1"), nullptr);
    EXPECT_EQ(ring.find("old-1")->hex(), hex_key(0x11));
    EXPECT_EQ(ring.find("none"), nullptr);
    EXPECT_EQ(ring.fingerprint_key().hex(), hex_key(0xf1));
}

TEST(KekRing, SemicolonsSeparateStatementsAndHexMayBeUpperCase) {
    std::string upper = hex_key(0xab);
    for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    const auto ring =
        kek_ring::parse("kek a " + upper + "; current a; fingerprint " + hex_key(0xcd), "env");
    EXPECT_EQ(ring.current().hex(), hex_key(0xab));
}

TEST(KekRing, RefusesWhatCannotBeUsedAndSaysWhere) {
    const std::string k = hex_key(0x11);
    const std::string fp = "\nfingerprint " + hex_key(0xf1);
    EXPECT_EQ(error_of("current a" + fp),
              "keys: no key-encryption key ('kek <id> <64 hex digits>')");
    EXPECT_EQ(error_of("kek a " + k + fp), "keys: no 'current <id>' line");
    EXPECT_EQ(error_of("kek a " + k + "\ncurrent b" + fp),
              "keys: the current key 'b' is not in the file");
    EXPECT_EQ(error_of("kek a " + k + "\ncurrent a"),
              "keys: no 'fingerprint <64 hex digits>' line");
    EXPECT_EQ(error_of("kek a " + k + "\nkek a " + hex_key(0x22) + "\ncurrent a" + fp),
              "keys:2: key id 'a' appears twice");
    EXPECT_EQ(error_of("kek a " + k + "\ncurrent a\ncurrent a" + fp),
              "keys:3: a second 'current' line");
    EXPECT_EQ(error_of("kek a " + k + "\ncurrent a" + fp + fp),
              "keys:4: a second 'fingerprint' line");
    EXPECT_EQ(error_of("kek a " + k.substr(2) + "\ncurrent a" + fp),
              "keys:1: a key is 64 hex digits (openssl rand -hex 32)");
    EXPECT_EQ(error_of("kek a " + k.substr(1) + "g\ncurrent a" + fp),
              "keys:1: a key is 64 hex digits (openssl rand -hex 32)");
    EXPECT_EQ(error_of("kek a " + hex_key(0) + "\ncurrent a" + fp),
              "keys:1: a key of zero bytes is a placeholder, not a key");
    EXPECT_EQ(error_of("kek a/b " + k + "\ncurrent a/b" + fp),
              "keys:1: a key id is 1..32 of A-Z a-z 0-9 . _ : -");
    EXPECT_EQ(error_of("kek " + std::string(33, 'a') + " " + k),
              "keys:1: a key id is 1..32 of A-Z a-z 0-9 . _ : -");
    EXPECT_EQ(error_of("kek a\ncurrent a" + fp), "keys:1: expected 'kek <id> <64 hex digits>'");
    EXPECT_EQ(error_of("kek a " + k + "\ncurrent" + fp), "keys:2: expected 'current <id>'");
    EXPECT_EQ(error_of("key a " + k), "keys:1: unknown statement (kek, current or fingerprint)");
}

TEST(KekRing, ErrorsNeverQuoteKeyMaterial) {
    const std::string k = hex_key(0x5a);
    for (const std::string& text : {"kek a " + k + " extra", "kek a " + k.substr(0, 63),
                                    "fingerprint " + k + " extra", "kek a " + k}) {
        const auto e = error_of(text);
        EXPECT_EQ(e.find(k.substr(0, 16)), std::string::npos) << e;
    }
}

class KeyFile : public ::testing::Test {
protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = std::filesystem::temp_directory_path() /
               ("confide-keys-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directory(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path write(const std::string& text, std::filesystem::perms perms) {
        auto path = dir_ / "data.keys";
        std::ofstream(path) << text;
        std::filesystem::permissions(path, perms);
        return path;
    }

    std::filesystem::path dir_;
};

TEST_F(KeyFile, LoadsAFileOnlyItsOwnerCanRead) {
    using p = std::filesystem::perms;
    const auto path = write(kek_ring::generate_text("k1"), p::owner_read | p::owner_write);
    const auto ring = kek_ring::load_file(path);
    EXPECT_EQ(ring.current_id(), "k1");
}

TEST_F(KeyFile, RefusesAFileOthersCanRead) {
    using p = std::filesystem::perms;
    const auto path = write(kek_ring::generate_text("k1"),
                            p::owner_read | p::owner_write | p::group_read | p::others_read);
    try {
        kek_ring::load_file(path);
        FAIL() << "a world-readable key file was accepted";
    } catch (const key_file_error& e) {
        EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
    }
}

TEST_F(KeyFile, AMissingFileIsAnError) {
    EXPECT_THROW(kek_ring::load_file(dir_ / "absent"), key_file_error);
}

// The test changes the environment; no other thread of this test binary runs meanwhile.
// NOLINTBEGIN(concurrency-mt-unsafe)
TEST(KekRing, FromEnvironment) {
    ::unsetenv("CONFIDE_TEST_DATA_KEYS");
    EXPECT_FALSE(kek_ring::from_environment("CONFIDE_TEST_DATA_KEYS"));
    ::setenv("CONFIDE_TEST_DATA_KEYS", "  ", 1);
    EXPECT_FALSE(kek_ring::from_environment("CONFIDE_TEST_DATA_KEYS"));
    const std::string text = "kek e1 " + hex_key(0x31) + ";current e1;fingerprint " + hex_key(0x32);
    ::setenv("CONFIDE_TEST_DATA_KEYS", text.c_str(), 1);
    const auto ring = kek_ring::from_environment("CONFIDE_TEST_DATA_KEYS");
    ASSERT_TRUE(ring);
    EXPECT_EQ(ring->current_id(), "e1");
    ::setenv("CONFIDE_TEST_DATA_KEYS", "kek e1", 1);
    try {
        kek_ring::from_environment("CONFIDE_TEST_DATA_KEYS");
        FAIL() << "accepted";
    } catch (const key_file_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "CONFIDE_TEST_DATA_KEYS:1: expected 'kek <id> <64 hex digits>'");
    }
    ::unsetenv("CONFIDE_TEST_DATA_KEYS");
}
// NOLINTEND(concurrency-mt-unsafe)

TEST(KekRing, GeneratedFilesHoldFreshKeys) {
    const auto a = kek_ring::parse(kek_ring::generate_text("gen"), "a");
    const auto b = kek_ring::parse(kek_ring::generate_text("gen"), "b");
    EXPECT_EQ(a.current_id(), "gen");
    EXPECT_FALSE(a.current().equals(b.current()));
    EXPECT_FALSE(a.fingerprint_key().equals(b.fingerprint_key()));
    EXPECT_FALSE(a.current().equals(a.fingerprint_key()));
    EXPECT_THROW(kek_ring::generate_text("bad id"), key_file_error);
}

}  // namespace
}  // namespace confide::crypto

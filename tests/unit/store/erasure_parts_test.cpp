// The parts of erasure and rotation that need no Redis: the key names they scan for, the state
// and the notice they read back (store/keys.hpp, store/fields.hpp, store/notice_codec.hpp).

#include "store/fields.hpp"
#include "store/keys.hpp"
#include "store/notice_codec.hpp"
#include "store/sealing.hpp"

#include <gtest/gtest.h>

#include <variant>

namespace confide::store {
namespace {

TEST(erasure_parts, ConversationKeysAreFoundByTheirPatternAndNamedBack) {
    EXPECT_EQ(keys::conversation_of_key(keys::conversation("abc")), "abc");
    EXPECT_EQ(keys::conversation_of_key(keys::conversation_log("abc")), "");
    EXPECT_EQ(keys::conversation_of_key(keys::user("abc")), "");
    EXPECT_EQ(keys::conversation_pattern(), "cf:c:{*}");
    EXPECT_EQ(keys::user_of_key(keys::user("alice")), "alice");
}

TEST(erasure_parts, AUsersInquiryRecordsAreMatchedWithTheirIdsGlobCharactersEscaped) {
    EXPECT_EQ(keys::inquiry_record_pattern("alice"), "cf:u:{alice}:inq:*");
    // A user id "a*" must not match the records of "ab".
    EXPECT_EQ(keys::inquiry_record_pattern("a*?[x]\\"), "cf:u:{a\\*\\?\\[x\\]\\\\}:inq:*");
}

TEST(erasure_parts, TheErasedStateIsReadBack) {
    EXPECT_EQ(parse_state("erased"), routing::conversation_state::erased);
    EXPECT_EQ(parse_state("erase"), routing::conversation_state::unknown);
}

TEST(erasure_parts, TheAccountErasedNoticeDecodesAsSuch) {
    const sealer plain(std::nullopt);
    const auto n = decode_notice("alice", account_erased_payload, plain);
    ASSERT_TRUE(n);
    EXPECT_TRUE(std::holds_alternative<routing::account_erased>(n->what));
    EXPECT_FALSE(n->is_event());
}

}  // namespace
}  // namespace confide::store

#include "auth/identity.hpp"

#include <gtest/gtest.h>

namespace confide::auth {
namespace {

TEST(Identity, RoleNames) {
    EXPECT_EQ(to_string(role::client), "client");
    EXPECT_EQ(to_string(role::specialist), "specialist");
    EXPECT_EQ(parse_role("client"), role::client);
    EXPECT_EQ(parse_role("specialist"), role::specialist);
    EXPECT_FALSE(parse_role("Client"));
    EXPECT_FALSE(parse_role(""));
    EXPECT_FALSE(parse_role("admin"));
}

}  // namespace
}  // namespace confide::auth

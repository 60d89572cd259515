#include "store/redis/pubsub_link.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

namespace confide::store::redis::detail {
namespace {

TEST(append_resp_command, writes_an_array_of_bulk_strings) {
    std::string out;
    const std::array<std::string_view, 2> args{"SSUBSCRIBE", "cf:n:{u:alice}"};
    append_resp_command(out, args);
    EXPECT_EQ(out, "*2\r\n$10\r\nSSUBSCRIBE\r\n$14\r\ncf:n:{u:alice}\r\n");

    // Binary safe, and appended after what is there.
    const std::array<std::string, 1> binary{std::string("a\0\r\n", 4)};
    append_resp_command(out, binary);
    EXPECT_EQ(out.substr(out.size() - 14), std::string("*1\r\n$4\r\na\0\r\n\r\n", 14));
}

}  // namespace
}  // namespace confide::store::redis::detail

// The main of every test executable: GoogleTest's, except that a skipped test fails the run.
// Nothing here is skipped on purpose (a missing redis-server is a failure, not a skip), and a
// fixture that fails in SetUpTestSuite makes GoogleTest report its tests as skipped: such a run
// must not pass.

#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const int result = RUN_ALL_TESTS();
    const int skipped = ::testing::UnitTest::GetInstance()->skipped_test_count();
    if (skipped > 0) {
        std::fprintf(stderr, "confide: %d test(s) skipped; a skip counts as a failure here\n",
                     skipped);
        return 1;
    }
    return result;
}

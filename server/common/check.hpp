#pragma once
// CONFIDE_CHECK: for broken invariants only (bugs). Expected failures use error codes.

#include <cstdio>
#include <cstdlib>

#define CONFIDE_CHECK(cond)                                                                   \
    do {                                                                                      \
        if (!(cond)) [[unlikely]] {                                                           \
            std::fprintf(stderr, "confide: invariant failed: %s at %s:%d\n", #cond, __FILE__, \
                         __LINE__);                                                           \
            std::abort();                                                                     \
        }                                                                                     \
    } while (false)

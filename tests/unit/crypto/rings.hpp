#pragma once
// Key rings for the crypto tests, written in the key file format.

#include "crypto/key_ring.hpp"

#include <string>

namespace confide::crypto::test {

/// 64 hex digits: the byte `b` 32 times.
inline std::string hex_key(unsigned char b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string one{digits[b >> 4], digits[b & 0x0f]};
    std::string out;
    for (int i = 0; i < 32; ++i) {
        out += one;
    }
    return out;
}

/// A ring with KEK "k1" (bytes 0x11), current.
inline kek_ring ring_k1() {
    return kek_ring::parse("kek k1 " + hex_key(0x11) + "\ncurrent k1\nfingerprint " + hex_key(0xf1),
                           "test");
}

/// k1 and k2 (bytes 0x22), k2 current: a rotation in progress.
inline kek_ring ring_k1_k2() {
    return kek_ring::parse("kek k1 " + hex_key(0x11) + "\nkek k2 " + hex_key(0x22) +
                               "\ncurrent k2\nfingerprint " + hex_key(0xf1),
                           "test");
}

/// k2 only: the old KEK removed.
inline kek_ring ring_k2() {
    return kek_ring::parse("kek k2 " + hex_key(0x22) + "\ncurrent k2\nfingerprint " + hex_key(0xf1),
                           "test");
}

}  // namespace confide::crypto::test

#pragma once
// Internal to confide_crypto: the byte layout shared by records and wrapped keys.

#include "crypto/errc.hpp"
#include "crypto/secret_key.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace confide::crypto::detail {

/// The version byte of both formats (records, wrapped data keys) written by this build.
inline constexpr unsigned char format_v1 = 0x01;

/// What follows the version byte of `in`: errc::malformed when empty, errc::unsupported_version
/// for a version other than format_v1.
inline result<std::string_view> after_version(std::string_view in) noexcept {
    if (in.empty()) {
        return errc::malformed;
    }
    if (static_cast<unsigned char>(in.front()) != format_v1) {
        return errc::unsupported_version;
    }
    return in.substr(1);
}

/// Appends a one-byte length and `id` (a valid key id: at most 32 bytes).
inline void put_id(std::string& out, std::string_view id) {
    out.push_back(static_cast<char>(id.size()));
    out.append(id);
}

/// Takes a one-byte length and that many bytes off the front of `in`; errc::malformed when
/// they are not there or do not form a key id.
inline result<std::string_view> take_id(std::string_view& in) noexcept {
    if (in.empty()) {
        return errc::malformed;
    }
    const auto n = static_cast<unsigned char>(in.front());
    if (in.size() < 1u + n) {
        return errc::malformed;
    }
    const auto id = in.substr(1, n);
    if (!is_valid_key_id(id)) {
        return errc::malformed;
    }
    in.remove_prefix(1u + n);
    return id;
}

/// Appends `n` as `bytes` big-endian bytes.
inline void put_be(std::string& out, std::uint64_t n, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    }
}

/// Appends `s` preceded by its length in 4 big-endian bytes: no two lists of fields encode
/// alike.
inline void put_field(std::string& out, std::string_view s) {
    put_be(out, s.size(), 4);
    out.append(s);
}

}  // namespace confide::crypto::detail

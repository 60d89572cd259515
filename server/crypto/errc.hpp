#pragma once
// The crypto layer's error codes: what can go wrong when a record or a wrapped key is opened.
// Returned (never thrown) on the message path; start-up problems (a bad key file) throw.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <type_traits>

namespace confide::crypto {

/// Why a seal, an open, a wrap or an unwrap failed.
enum class errc : int {
    malformed = 1,        ///< not a record or wrapped key of the expected shape (truncated, ...)
    unsupported_version,  ///< a format version this build does not know
    unknown_key,          ///< names a key-encryption key that is not in the ring
    wrong_key,            ///< names another data key than the one given to open it
    refused,              ///< authentication failed: altered, moved to another record, wrong key
    too_large,            ///< more than 2^31 - 1 bytes
    bad_id,               ///< a key id that is not 1..32 id characters
    openssl,              ///< an OpenSSL call failed (no memory, no randomness)
};

/// The category of `errc` ("confide.crypto"). Thread safety: safe.
const boost::system::error_category& crypto_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), crypto_category()};
}

/// A value or the error_code that says why there is none.
template <class T>
using result = boost::system::result<T>;

}  // namespace confide::crypto

template <>
struct boost::system::is_error_code_enum<confide::crypto::errc> : std::true_type {};

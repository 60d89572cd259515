#pragma once
// 32 secret bytes: an AES-256 key or an HMAC-SHA-256 key.

#include "crypto/errc.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace confide::crypto {

/// Bytes in every key of this layer (AES-256, HMAC-SHA-256).
inline constexpr std::size_t key_bytes = 32;

/// The longest key id (of a key-encryption key or a data key).
inline constexpr std::size_t max_key_id_bytes = 32;

/// Whether `id` may name a key: 1..32 characters of A-Z a-z 0-9 . _ : -. Thread safety: pure.
bool is_valid_key_id(std::string_view id) noexcept;

/// 32 secret bytes, wiped (OPENSSL_cleanse) when destroyed or overwritten. Never log them.
///
/// Thread safety: const members are safe concurrently.
class secret_key {
public:
    /// 32 bytes from OpenSSL's CSPRNG (RAND_bytes); errc::openssl if it has no randomness.
    static result<secret_key> random();

    /// The key written as 64 hex digits (either case), or nullopt.
    static std::optional<secret_key> from_hex(std::string_view hex);

    /// The key's bytes as given (exactly key_bytes of them), or nullopt.
    static std::optional<secret_key> from_bytes(std::string_view bytes);

    secret_key(const secret_key& other) noexcept;
    secret_key& operator=(const secret_key& other) noexcept;
    ~secret_key();

    const unsigned char* data() const noexcept { return bytes_.data(); }
    static constexpr std::size_t size() noexcept { return key_bytes; }

    /// 64 lowercase hex digits (for writing a key file; never for a log).
    std::string hex() const;

    /// Constant-time comparison.
    bool equals(const secret_key& other) const noexcept;

private:
    secret_key() noexcept = default;
    std::array<unsigned char, key_bytes> bytes_{};
};

/// `bytes` as lowercase hex. Thread safety: pure.
std::string to_hex(std::string_view bytes);

}  // namespace confide::crypto

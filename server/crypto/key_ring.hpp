#pragma once
// The key-encryption keys (KEKs) of a node, and the key of its dedupe fingerprints, from a key
// file or an environment variable. KEKs never reach Redis: they only wrap the data keys that do.

#include "crypto/secret_key.hpp"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confide::crypto {

/// A key file (or variable) that cannot be used: what() names the source and the line, never a
/// key's bytes.
class key_file_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The key-encryption keys, each with an id, one of them current, and the fingerprint key.
///
/// Key file format (docs/privacy.md), one statement per line (or separated by `;` in the
/// variable); `#` starts a comment; blank lines are ignored:
///
///     kek <id> <64 hex digits>      a key-encryption key (AES-256); several during a rotation
///     current <id>                  the KEK that wraps new data keys (exactly one such line)
///     fingerprint <64 hex digits>   the HMAC-SHA-256 key of dedupe fingerprints (exactly one)
///
/// An id is 1..32 of A-Z a-z 0-9 . _ : - and unique in the file. A key of 32 zero bytes is
/// refused (a placeholder left in place). `openssl rand -hex 32` makes a key.
///
/// Thread safety: immutable after construction; const members are safe concurrently.
class kek_ring {
public:
    /// Parses the text of a key file. `source` names it in error messages. Throws
    /// key_file_error.
    static kek_ring parse(std::string_view text, std::string_view source);

    /// Reads and parses the key file at `path`. Throws key_file_error when it cannot be read,
    /// when group or others may read it (it must be chmod 600 or 400) or when parse() refuses it.
    static kek_ring load_file(const std::filesystem::path& path);

    /// The keys in the variable `variable` (statements separated by `;` or newlines), or
    /// nullopt when it is unset or empty. Throws key_file_error like parse().
    static std::optional<kek_ring> from_environment(const char* variable = "CONFIDE_DATA_KEYS");

    /// The text of a new key file: one fresh KEK named `kek_id`, current, and a fresh fingerprint
    /// key. Throws key_file_error for an invalid id or when no randomness is available.
    static std::string generate_text(std::string_view kek_id);

    /// The KEK new data keys are wrapped with.
    const std::string& current_id() const noexcept { return current_id_; }
    const secret_key& current() const noexcept;

    /// The KEK named `id`, or null.
    const secret_key* find(std::string_view id) const noexcept;

    /// Every KEK id, in file order.
    std::vector<std::string> ids() const;

    /// The HMAC key of dedupe fingerprints (independent of the KEKs: rotating them leaves every
    /// stored fingerprint valid).
    const secret_key& fingerprint_key() const noexcept { return fingerprint_key_; }

private:
    kek_ring(std::vector<std::pair<std::string, secret_key>> keks, std::string current_id,
             const secret_key& fingerprint_key);

    std::vector<std::pair<std::string, secret_key>> keks_;
    std::string current_id_;
    secret_key fingerprint_key_;
};

}  // namespace confide::crypto

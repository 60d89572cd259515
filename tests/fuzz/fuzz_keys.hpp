#pragma once
// The keys the token fuzzer's verifier trusts, shared with the seed corpus generator so that the
// seeds carry valid signatures. Test keys: never use them anywhere else.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace confide::fuzz {

/// The HS256 secret of key id "hs" (32 bytes).
inline constexpr std::string_view hs256_secret = "confide-fuzz-hs256-secret-32-byt";

/// The time the fuzzer verifies tokens at: 2027-01-15T08:00:00Z, in ms.
inline constexpr std::int64_t now_ms = 1'800'000'000'000;

/// The issuer and audience the verifier requires.
inline constexpr std::string_view issuer = "https://platform.example";
inline constexpr std::string_view audience = "confide";

/// base64url(header) "." base64url(payload) "." base64url(HS256 signature with hs256_secret).
std::string sign_hs256(std::string_view header_json, std::string_view payload_json);

}  // namespace confide::fuzz

#pragma once
// The bodies the load generator sends: derived from (sender, message number, size) alone, so the
// receiver can rebuild the expected bytes, and self-checking, so corruption shows even without
// that: "<sender>.<n>:<filler>:<fnv1a-32 of everything before the last ':', 8 hex digits>".

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confide::loadgen {

/// The shortest body make_body() produces (a smaller size is raised to it).
inline constexpr std::size_t min_body_bytes = 32;

/// The body of message `n` of sender `sender`, exactly max(bytes, min_body_bytes) bytes of
/// printable ASCII. Thread safety: safe.
std::string make_body(std::uint64_t sender, std::uint64_t n, std::size_t bytes);

/// What a body says about itself.
struct body_header {
    std::uint64_t sender = 0;
    std::uint64_t n = 0;
};

/// The sender and number of a body whose checksum holds; nullopt for a corrupted body.
/// Thread safety: safe.
std::optional<body_header> parse_body(std::string_view body);

/// Whether `body` is exactly make_body(sender, n, bytes). Thread safety: safe.
bool body_matches(std::string_view body, std::uint64_t sender, std::uint64_t n, std::size_t bytes);

/// The 32-bit FNV-1a hash of `data`. Thread safety: safe.
std::uint32_t fnv1a(std::string_view data) noexcept;

}  // namespace confide::loadgen

#include "message_body.hpp"

#include <algorithm>
#include <charconv>

namespace confide::loadgen {
namespace {

constexpr std::size_t checksum_digits = 8;

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void append_hex(std::string& out, std::uint32_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    for (int shift = 28; shift >= 0; shift -= 4) {
        out.push_back(digits[(v >> shift) & 0xfU]);
    }
}

template <class T>
bool parse_uint(std::string_view s, T& out) {
    if (s.empty()) {
        return false;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::uint32_t fnv1a(std::string_view data) noexcept {
    std::uint32_t h = 2166136261U;
    for (const char c : data) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619U;
    }
    return h;
}

std::string make_body(std::uint64_t sender, std::uint64_t n, std::size_t bytes) {
    std::string out = std::to_string(sender);
    out.push_back('.');
    out += std::to_string(n);
    out.push_back(':');
    const std::size_t total = std::max({bytes, min_body_bytes, out.size() + 1 + checksum_digits});
    const std::size_t filler = total - out.size() - 1 - checksum_digits;
    std::uint64_t state = (sender << 32) ^ n ^ 0x5bd1e995ULL;
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < filler; ++i) {
        if (i % 10 == 0) {
            bits = splitmix64(state);
        }
        out.push_back(static_cast<char>('a' + bits % 26));
        bits /= 26;
    }
    out.push_back(':');
    append_hex(out, fnv1a(out));
    return out;
}

std::optional<body_header> parse_body(std::string_view body) {
    const auto last = body.rfind(':');
    if (last == std::string_view::npos || body.size() - last - 1 != checksum_digits) {
        return std::nullopt;
    }
    std::uint32_t sum = 0;
    auto digits = body.substr(last + 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), sum, 16);
    if (ec != std::errc{} || p != digits.data() + digits.size() ||
        fnv1a(body.substr(0, last + 1)) != sum) {
        return std::nullopt;
    }
    const auto colon = body.find(':');
    const auto dot = body.find('.');
    if (dot == std::string_view::npos || dot > colon) {
        return std::nullopt;
    }
    body_header h;
    if (!parse_uint(body.substr(0, dot), h.sender) ||
        !parse_uint(body.substr(dot + 1, colon - dot - 1), h.n)) {
        return std::nullopt;
    }
    return h;
}

bool body_matches(std::string_view body, std::uint64_t sender, std::uint64_t n, std::size_t bytes) {
    return body == make_body(sender, n, bytes);
}

}  // namespace confide::loadgen

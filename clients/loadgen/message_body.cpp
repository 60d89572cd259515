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

constexpr std::uint32_t fnv_offset = 2166136261U;
constexpr std::uint32_t fnv_prime = 16777619U;

// "<sender>.<n>:" and the body's size.
struct body_layout {
    body_layout(std::uint64_t sender, std::uint64_t n, std::size_t bytes) {
        char* p = std::to_chars(head, head + sizeof head, sender).ptr;
        *p++ = '.';
        p = std::to_chars(p, head + sizeof head, n).ptr;
        *p++ = ':';
        head_size = static_cast<std::size_t>(p - head);
        total = std::max({bytes, min_body_bytes, head_size + 1 + checksum_digits});
    }
    char head[48];  // two 20-digit numbers and two separators
    std::size_t head_size = 0;
    std::size_t total = 0;
};

// Calls put(c) for each byte of the body, in order, while it returns true; whether all went.
template <class Put>
bool generate(const body_layout& l, std::uint64_t sender, std::uint64_t n, Put put) {
    std::uint32_t sum = fnv_offset;
    const auto emit = [&](char c) {
        sum = (sum ^ static_cast<unsigned char>(c)) * fnv_prime;
        return put(c);
    };
    for (std::size_t i = 0; i < l.head_size; ++i) {
        if (!emit(l.head[i])) {
            return false;
        }
    }
    const std::size_t filler = l.total - l.head_size - 1 - checksum_digits;
    std::uint64_t state = (sender << 32) ^ n ^ 0x5bd1e995ULL;
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < filler; ++i) {
        if (i % 10 == 0) {
            bits = splitmix64(state);
        }
        if (!emit(static_cast<char>('a' + bits % 26))) {
            return false;
        }
        bits /= 26;
    }
    if (!emit(':')) {
        return false;
    }
    static constexpr char digits[] = "0123456789abcdef";
    for (int shift = 28; shift >= 0; shift -= 4) {
        if (!put(digits[(sum >> shift) & 0xfU])) {
            return false;
        }
    }
    return true;
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
    std::uint32_t h = fnv_offset;
    for (const char c : data) {
        h = (h ^ static_cast<unsigned char>(c)) * fnv_prime;
    }
    return h;
}

std::string make_body(std::uint64_t sender, std::uint64_t n, std::size_t bytes) {
    const body_layout l(sender, n, bytes);
    std::string out(l.total, '\0');
    std::size_t i = 0;
    generate(l, sender, n, [&](char c) {
        out[i++] = c;
        return true;
    });
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
    // Compared as it is generated: every message is checked twice (the other party, the
    // sender's device), so no copy is built.
    const body_layout l(sender, n, bytes);
    if (body.size() != l.total) {
        return false;
    }
    std::size_t i = 0;
    return generate(l, sender, n, [&](char c) { return body[i++] == c; });
}

}  // namespace confide::loadgen

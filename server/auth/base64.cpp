#include "auth/base64.hpp"

#include <array>
#include <cstdint>

namespace confide::auth {
namespace {

constexpr std::string_view url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view std_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::int8_t invalid = -1;

constexpr std::array<std::int8_t, 256> make_table(std::string_view alphabet) {
    std::array<std::int8_t, 256> t{};
    t.fill(invalid);
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}

constexpr auto url_table = make_table(url_alphabet);
constexpr auto std_table = make_table(std_alphabet);

std::optional<std::string> decode(std::string_view text, const std::array<std::int8_t, 256>& t) {
    // A single character left over carries 6 bits: less than a byte, so no encoder produces it.
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const std::int8_t v = t[static_cast<unsigned char>(c)];
        if (v == invalid) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    // Non-zero leftover bits would give a second spelling of the same bytes.
    if ((acc & ((1U << bits) - 1U)) != 0) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : bytes) {
        acc = (acc << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(url_alphabet[(acc >> bits) & 0x3F]);
        }
    }
    if (bits > 0) {
        out.push_back(url_alphabet[(acc << (6 - bits)) & 0x3F]);
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    return decode(text, url_table);
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (!text.empty() && text.back() == '=') {
        if (text.size() % 4 != 0) {
            return std::nullopt;
        }
        text.remove_suffix(1);
        if (!text.empty() && text.back() == '=') {
            text.remove_suffix(1);
        }
        // "xx==" and "xxx=" are the only padded shapes; "x===" is caught by decode's length rule.
    }
    return decode(text, std_table);
}

}  // namespace confide::auth

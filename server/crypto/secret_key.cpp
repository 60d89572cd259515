#include "crypto/secret_key.hpp"

#include "common/text.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>

namespace confide::crypto {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

bool is_valid_key_id(std::string_view id) noexcept {
    return is_valid_id(id, max_key_id_bytes);
}

result<secret_key> secret_key::random() {
    secret_key k;
    if (RAND_bytes(k.bytes_.data(), static_cast<int>(k.bytes_.size())) != 1) {
        return errc::openssl;
    }
    return k;
}

std::optional<secret_key> secret_key::from_hex(std::string_view hex) {
    if (hex.size() != 2 * key_bytes) {
        return std::nullopt;
    }
    secret_key k;
    for (std::size_t i = 0; i < key_bytes; ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        k.bytes_[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return k;
}

std::optional<secret_key> secret_key::from_bytes(std::string_view bytes) {
    if (bytes.size() != key_bytes) {
        return std::nullopt;
    }
    secret_key k;
    std::memcpy(k.bytes_.data(), bytes.data(), key_bytes);
    return k;
}

secret_key::secret_key(const secret_key& other) noexcept = default;

secret_key& secret_key::operator=(const secret_key& other) noexcept = default;

secret_key::~secret_key() {
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

std::string secret_key::hex() const {
    return to_hex(std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size()));
}

bool secret_key::equals(const secret_key& other) const noexcept {
    return CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), key_bytes) == 0;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char ch : bytes) {
        const auto b = static_cast<unsigned char>(ch);
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

}  // namespace confide::crypto

#include "store/fingerprint.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace confide::store {

std::string fingerprint(std::initializer_list<std::string_view> parts) {
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                      &EVP_MD_CTX_free);
    bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
    for (const auto part : parts) {
        const std::string len = std::to_string(part.size()) + ":";
        ok = ok && EVP_DigestUpdate(ctx.get(), len.data(), len.size()) == 1 &&
             EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx.get(), md.data(), &md_len) == 1 && md_len >= 16;
    if (!ok) {
        throw std::runtime_error("SHA-256 failed");  // only without memory: a bug-level failure
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(32);
    for (std::size_t i = 0; i < 16; ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 0xF]);
    }
    return out;
}

}  // namespace confide::store

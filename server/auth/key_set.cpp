#include "auth/key_set.hpp"

#include "auth/base64.hpp"
#include "auth/detail/openssl.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace confide::auth {
namespace {

constexpr std::size_t max_kid_bytes = 128;
// Far more than any secret or PEM public key; keeps a wrong path (a log, /dev/zero) harmless.
constexpr std::size_t max_key_file_bytes = std::size_t{64} * 1024;

[[noreturn]] void refuse(std::string_view kid, std::string_view problem) {
    throw std::invalid_argument("auth key '" + std::string(kid) + "': " + std::string(problem));
}

bool is_valid_kid(std::string_view kid) noexcept {
    if (kid.empty() || kid.size() > max_kid_bytes) {
        return false;
    }
    return std::all_of(kid.begin(), kid.end(),
                       [](char c) { return c > ' ' && c <= '~' && c != ':'; });
}

void check_kid(std::string_view kid) {
    if (!is_valid_kid(kid)) {
        throw std::invalid_argument("auth key spec: the kid must be 1.." +
                                    std::to_string(max_kid_bytes) +
                                    " printable ASCII characters other than ':' and space");
    }
}

// Only a short alphanumeric word is quoted back: with a forgotten kid, the alg field of
// "base64:<secret>" would be the secret.
std::string describe_unknown_algorithm(std::string_view alg) {
    const bool quotable =
        !alg.empty() && alg.size() <= 8 && std::all_of(alg.begin(), alg.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        });
    std::string s = "unknown algorithm";
    if (quotable) {
        s += " '" + std::string(alg) + "'";
    }
    return s + " (expected HS256, HS384, HS512, RS256 or ES256)";
}

std::string read_key_file(std::string_view kid, const std::string& path) {
    auto cannot = [&](int err) {
        refuse(kid, "cannot read '" + path + "': " + std::generic_category().message(err));
    };
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cannot(errno);
    }
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } guard{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        cannot(errno);
    }
    if (!S_ISREG(st.st_mode)) {
        refuse(kid, "'" + path + "' is not a regular file");
    }
    // Sized up front so the secret is not left behind in buffers freed by regrowth.
    std::string data;
    data.reserve(std::min<std::size_t>(static_cast<std::size_t>(st.st_size), max_key_file_bytes) +
                 1);
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            OPENSSL_cleanse(buf, sizeof buf);
            cannot(errno);
        }
        if (n == 0) {
            break;
        }
        data.append(buf, static_cast<std::size_t>(n));
        if (data.size() > max_key_file_bytes) {
            refuse(kid, "'" + path + "' is larger than " + std::to_string(max_key_file_bytes) +
                            " bytes");
        }
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return data;
}

// Wipes a secret's bytes when it goes out of scope, whichever way that happens.
struct wiped_string {
    std::string value;
    ~wiped_string() { OPENSSL_cleanse(value.data(), value.size()); }
};

using pkey_ptr = detail::openssl_ptr<EVP_PKEY>;

pkey_ptr load_public_key(std::string_view kid, algorithm alg, std::string_view pem) {
    detail::openssl_error_scope errors;
    if (pem.size() > max_key_file_bytes) {
        refuse(kid, "the PEM is larger than " + std::to_string(max_key_file_bytes) + " bytes");
    }
    if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
        refuse(kid, "the PEM holds a private key; configure the public key only");
    }
    detail::openssl_ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        throw std::bad_alloc();
    }
    pkey_ptr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!pkey) {
        refuse(kid, "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
    }
    if (alg == algorithm::rs256) {
        // "RSA" only: an RSA-PSS key is restricted to PSS and cannot verify RS256.
        if (!EVP_PKEY_is_a(pkey.get(), "RSA")) {
            refuse(kid, "RS256 needs an RSA public key");
        }
        const int bits = EVP_PKEY_get_bits(pkey.get());
        if (bits < 2048) {
            refuse(kid,
                   "RSA key has " + std::to_string(bits) + " bits; at least 2048 are required");
        }
    } else {
        if (!EVP_PKEY_is_a(pkey.get(), "EC")) {
            refuse(kid, "ES256 needs an EC public key on P-256");
        }
        // A named curve only: explicit curve parameters are how forged-curve attacks get in.
        char group[64] = {};
        std::size_t group_len = 0;
        if (EVP_PKEY_get_group_name(pkey.get(), group, sizeof group, &group_len) != 1 ||
            (OBJ_sn2nid(group) != NID_X9_62_prime256v1 &&
             EC_curve_nist2nid(group) != NID_X9_62_prime256v1)) {
            refuse(kid, "ES256 needs an EC key on the named curve P-256 (prime256v1)");
        }
    }
    return pkey;
}

}  // namespace

key_set::key::key(std::string kid, algorithm alg, std::string secret, EVP_PKEY* public_key) noexcept
    : kid_(std::move(kid)), alg_(alg), secret_(std::move(secret)), public_key_(public_key) {}

key_set::key::~key() {
    OPENSSL_cleanse(secret_.data(), secret_.size());
    EVP_PKEY_free(public_key_);
}

key_set key_set::from_specs(const std::vector<std::string>& specs) {
    key_set set;
    for (const auto& spec : specs) {
        set.add(spec);
    }
    return set;
}

void key_set::add(std::string_view spec) {
    // The material may itself contain ':' (paths, text secrets): only the first two split.
    const auto first = spec.find(':');
    const auto second = first == std::string_view::npos ? first : spec.find(':', first + 1);
    if (second == std::string_view::npos) {
        throw std::invalid_argument("auth key spec must be <kid>:<alg>:<material>");
    }
    const auto kid = spec.substr(0, first);
    const auto alg_name = spec.substr(first + 1, second - first - 1);
    const auto material = spec.substr(second + 1);
    check_kid(kid);
    const auto alg = parse_algorithm(alg_name);
    if (!alg) {
        refuse(kid, describe_unknown_algorithm(alg_name));
    }
    const auto colon = material.find(':');
    const auto kind = material.substr(0, colon);
    const auto value =
        colon == std::string_view::npos ? std::string_view{} : material.substr(colon + 1);

    if (!is_hmac(*alg)) {
        if (colon == std::string_view::npos || kind != "file" || value.empty()) {
            refuse(kid, std::string(to_string(*alg)) +
                            " key material must be file:<path to a PEM public key>");
        }
        const std::string pem = read_key_file(kid, std::string(value));
        add_public_key(kid, *alg, pem);
        return;
    }

    wiped_string secret;
    if (colon != std::string_view::npos && kind == "base64") {
        auto decoded = base64_decode(value);
        if (!decoded) {
            refuse(kid, "the base64: secret is not valid base64");
        }
        secret.value.swap(*decoded);
    } else if (colon != std::string_view::npos && kind == "text") {
        secret.value = value;
    } else if (colon != std::string_view::npos && kind == "file" && !value.empty()) {
        secret.value = read_key_file(kid, std::string(value));
        if (secret.value.ends_with("\r\n")) {
            secret.value.resize(secret.value.size() - 2);
        } else if (secret.value.ends_with('\n')) {
            secret.value.pop_back();
        }
    } else {
        refuse(kid, std::string(to_string(*alg)) +
                        " key material must be base64:<secret>, text:<secret> or file:<path>");
    }
    add_hmac(kid, *alg, secret.value);
}

void key_set::add_hmac(std::string_view kid, algorithm alg, std::string_view secret) {
    check_kid(kid);
    if (!is_hmac(alg)) {
        refuse(kid, std::string(to_string(alg)) + " is not an HMAC algorithm");
    }
    if (find(kid) != nullptr) {
        refuse(kid, "duplicate kid");
    }
    const auto min = min_hmac_secret_bytes(alg);
    if (secret.size() < min) {
        refuse(kid, std::string(to_string(alg)) + " secret is " + std::to_string(secret.size()) +
                        " bytes; at least " + std::to_string(min) + " are required");
    }
    insert(std::shared_ptr<const key>(
        std::unique_ptr<key>(new key(std::string(kid), alg, std::string(secret), nullptr))));
}

void key_set::add_public_key(std::string_view kid, algorithm alg, std::string_view pem) {
    check_kid(kid);
    if (alg != algorithm::rs256 && alg != algorithm::es256) {
        refuse(kid, std::string(to_string(alg)) + " does not use a public key");
    }
    if (find(kid) != nullptr) {
        refuse(kid, "duplicate kid");
    }
    auto pkey = load_public_key(kid, alg, pem);
    std::unique_ptr<key> k(new key(std::string(kid), alg, {}, nullptr));
    k->public_key_ = pkey.release();
    insert(std::shared_ptr<const key>(std::move(k)));
}

bool key_set::remove(std::string_view kid) noexcept {
    const auto it =
        std::find_if(keys_.begin(), keys_.end(), [&](const auto& k) { return k->kid() == kid; });
    if (it == keys_.end()) {
        return false;
    }
    keys_.erase(it);
    return true;
}

const key_set::key* key_set::find(std::string_view kid) const noexcept {
    for (const auto& k : keys_) {
        if (k->kid() == kid) {
            return k.get();
        }
    }
    return nullptr;
}

const key_set::key* key_set::sole_key() const noexcept {
    return keys_.size() == 1 ? keys_.front().get() : nullptr;
}

std::vector<const key_set::key*> key_set::keys() const {
    std::vector<const key*> out;
    out.reserve(keys_.size());
    for (const auto& k : keys_) {
        out.push_back(k.get());
    }
    return out;
}

void key_set::insert(std::shared_ptr<const key> k) {
    keys_.push_back(std::move(k));
}

}  // namespace confide::auth

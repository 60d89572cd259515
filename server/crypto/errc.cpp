#include "crypto/errc.hpp"

#include <string>

namespace confide::crypto {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "confide.crypto"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::malformed:
                return "malformed ciphertext";
            case errc::unsupported_version:
                return "unsupported ciphertext version";
            case errc::unknown_key:
                return "unknown key-encryption key";
            case errc::wrong_key:
                return "sealed with another data key";
            case errc::refused:
                return "authentication failed (altered, moved or wrong key)";
            case errc::too_large:
                return "too large to seal";
            case errc::bad_id:
                return "invalid key id";
            case errc::openssl:
                return "OpenSSL failure";
        }
        return "unknown crypto error";
    }
};

}  // namespace

const boost::system::error_category& crypto_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace confide::crypto

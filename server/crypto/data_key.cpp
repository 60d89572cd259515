#include "crypto/data_key.hpp"

#include "crypto/detail/aead.hpp"
#include "crypto/detail/format.hpp"

#include <openssl/crypto.h>

namespace confide::crypto {
namespace {

constexpr std::string_view data_key_domain = "confide.data-key.v1";

std::string associated_data(std::string_view header, std::string_view owner) {
    std::string ad;
    ad.reserve(data_key_domain.size() + header.size() + 4 + owner.size());
    ad.append(data_key_domain);
    ad.append(header);
    detail::put_field(ad, owner);
    return ad;
}

}  // namespace

result<data_key> generate_data_key(std::string_view id) {
    if (!is_valid_key_id(id)) {
        return errc::bad_id;
    }
    auto secret = secret_key::random();
    if (!secret) {
        return secret.error();
    }
    return data_key{std::string(id), *secret};
}

result<std::string> wrap_data_key(const kek_ring& ring, const data_key& key,
                                  std::string_view owner) {
    if (!is_valid_key_id(key.id)) {
        return errc::bad_id;
    }
    std::string out;
    out.push_back(static_cast<char>(detail::format_v1));
    detail::put_id(out, ring.current_id());
    detail::put_id(out, key.id);
    const std::string_view secret(reinterpret_cast<const char*>(key.secret.data()),
                                  key.secret.size());
    if (auto sealed = detail::seal(ring.current(), associated_data(out, owner), secret, out);
        !sealed) {
        return sealed.error();
    }
    return out;
}

result<wrapped_key_info> inspect_wrapped(std::string_view wrapped) noexcept {
    auto body = detail::after_version(wrapped);
    if (!body) {
        return body.error();
    }
    std::string_view rest = *body;
    auto kek_id = detail::take_id(rest);
    if (!kek_id) {
        return kek_id.error();
    }
    auto key_id = detail::take_id(rest);
    if (!key_id) {
        return key_id.error();
    }
    if (rest.size() != detail::overhead_bytes + key_bytes) {
        return errc::malformed;
    }
    return wrapped_key_info{*kek_id, *key_id};
}

result<data_key> unwrap_data_key(const kek_ring& ring, std::string_view wrapped,
                                 std::string_view owner) {
    auto info = inspect_wrapped(wrapped);
    if (!info) {
        return info.error();
    }
    const secret_key* kek = ring.find(info->kek_id);
    if (kek == nullptr) {
        return errc::unknown_key;
    }
    const std::size_t header_size = static_cast<std::size_t>(
        info->data_key_id.data() + info->data_key_id.size() - wrapped.data());
    std::string secret;
    if (auto opened = detail::open(*kek, associated_data(wrapped.substr(0, header_size), owner),
                                   wrapped.substr(header_size), secret);
        !opened) {
        return opened.error();
    }
    auto key = secret_key::from_bytes(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    if (!key) {
        return errc::malformed;
    }
    return data_key{std::string(info->data_key_id), *key};
}

result<std::string> rewrap_data_key(const kek_ring& ring, std::string_view wrapped,
                                    std::string_view owner) {
    auto key = unwrap_data_key(ring, wrapped, owner);
    if (!key) {
        return key.error();
    }
    if (inspect_wrapped(wrapped)->kek_id == ring.current_id()) {
        return std::string(wrapped);
    }
    return wrap_data_key(ring, *key, owner);
}

}  // namespace confide::crypto

#include "crypto/record.hpp"

#include "crypto/detail/aead.hpp"
#include "crypto/detail/format.hpp"

namespace confide::crypto {
namespace {

constexpr std::string_view record_domain = "confide.record.v1";

std::string associated_data(std::string_view header, const record_context& ctx) {
    std::string ad;
    ad.reserve(record_domain.size() + header.size() + 16 + ctx.conversation_id.size() +
               ctx.sender_id.size());
    ad.append(record_domain);
    ad.append(header);
    detail::put_field(ad, ctx.conversation_id);
    detail::put_be(ad, ctx.seq, 8);
    detail::put_field(ad, ctx.sender_id);
    return ad;
}

}  // namespace

result<std::string> seal_record(const data_key& key, const record_context& ctx,
                                std::string_view plaintext) {
    if (!is_valid_key_id(key.id)) {
        return errc::bad_id;
    }
    std::string out;
    out.reserve(record_overhead(key.id.size()) + plaintext.size());
    out.push_back(static_cast<char>(detail::format_v1));
    detail::put_id(out, key.id);
    if (auto sealed = detail::seal(key.secret, associated_data(out, ctx), plaintext, out);
        !sealed) {
        return sealed.error();
    }
    return out;
}

result<std::string_view> record_key_id(std::string_view record) noexcept {
    auto body = detail::after_version(record);
    if (!body) {
        return body.error();
    }
    std::string_view rest = *body;
    auto id = detail::take_id(rest);
    if (!id) {
        return id.error();
    }
    if (rest.size() < detail::overhead_bytes) {
        return errc::malformed;
    }
    return *id;
}

result<std::string> open_record(const data_key& key, const record_context& ctx,
                                std::string_view record) {
    auto id = record_key_id(record);
    if (!id) {
        return id.error();
    }
    if (*id != key.id) {
        return errc::wrong_key;
    }
    const std::size_t header_size = 2 + id->size();
    std::string plaintext;
    if (auto opened = detail::open(key.secret, associated_data(record.substr(0, header_size), ctx),
                                   record.substr(header_size), plaintext);
        !opened) {
        return opened.error();
    }
    return plaintext;
}

}  // namespace confide::crypto

#include "auth/token_verifier.hpp"

#include "auth/base64.hpp"
#include "auth/signature.hpp"
#include "common/text.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

namespace confide::auth {
namespace {

namespace json = boost::json;

constexpr std::size_t max_quoted_kid_bytes = 64;
constexpr std::chrono::seconds max_leeway{3600};
// Times are clamped to +-73 million years so that no sum or difference of two can overflow.
constexpr std::int64_t time_limit_ms = std::int64_t{1} << 61;

failure refuse(std::string message) {
    return fail(errc::unauthenticated, std::move(message));
}

std::string_view view(const json::string& s) noexcept {
    return {s.data(), s.size()};
}

// A kid is quoted back only when it cannot carry anything surprising into a log line.
std::string describe_unknown_kid(std::string_view kid) {
    if (is_valid_id(kid, max_quoted_kid_bytes)) {
        return "unknown key id '" + std::string(kid) + "'";
    }
    return "unknown key id";
}

enum class rounding { down, up };

// NumericDate (RFC 7519 §2): seconds, integer or not. nullopt when `v` is not a finite number.
// Fractions round towards refusal: down for exp, up for nbf and iat.
std::optional<std::int64_t> to_ms(const json::value& v, rounding r) noexcept {
    if (v.is_int64()) {
        const std::int64_t s = v.get_int64();
        return std::clamp(s, -time_limit_ms / 1000, time_limit_ms / 1000) * 1000;
    }
    if (v.is_uint64()) {
        // Only values above INT64_MAX are stored as uint64.
        return time_limit_ms;
    }
    if (v.is_double()) {
        const double ms = v.get_double() * 1000.0;
        if (!std::isfinite(ms)) {
            return std::nullopt;
        }
        const double rounded = r == rounding::down ? std::floor(ms) : std::ceil(ms);
        const double limit = static_cast<double>(time_limit_ms);
        return static_cast<std::int64_t>(std::clamp(rounded, -limit, limit));
    }
    return std::nullopt;
}

std::string seconds_text(std::int64_t ms) {
    return std::to_string((ms + 999) / 1000) + " s";
}

// The key the header names, once the header is acceptable.
outcome<const key_set::key*> check_header(const json::value& header, const key_set& keys) {
    const auto* h = header.if_object();
    if (h == nullptr) {
        return refuse("malformed token header: not a JSON object");
    }
    const auto* alg_value = h->if_contains("alg");
    if (alg_value == nullptr) {
        return refuse("token header has no algorithm");
    }
    const auto* alg_name = alg_value->if_string();
    if (alg_name != nullptr && iequals(view(*alg_name), "none")) {
        return refuse("unsigned tokens (algorithm 'none') are not allowed");
    }
    const auto alg = alg_name == nullptr ? std::nullopt : parse_algorithm(view(*alg_name));
    if (!alg) {
        return refuse(
            "token algorithm is not allowed (accepted: HS256, HS384, HS512, RS256, ES256)");
    }
    if (const auto* typ = h->if_contains("typ")) {
        // Media type names are case-insensitive (RFC 7515 §4.1.9).
        if (!typ->is_string() || !iequals(view(typ->get_string()), "JWT")) {
            return refuse("token type is not JWT");
        }
    }
    if (h->contains("crit")) {
        return refuse("token header has critical extensions, which are not supported");
    }
    const key_set::key* key = nullptr;
    if (const auto* kid = h->if_contains("kid")) {
        const auto* kid_name = kid->if_string();
        if (kid_name == nullptr) {
            return refuse("token key id is not a string");
        }
        key = keys.find(view(*kid_name));
        if (key == nullptr) {
            return refuse(describe_unknown_kid(view(*kid_name)));
        }
    } else {
        key = keys.sole_key();
        if (key == nullptr) {
            return refuse(
                "token has no key id, which is required when several keys are configured");
        }
    }
    // The key, not the token, decides the algorithm: an RS256 public key is never an HMAC secret.
    if (key->alg() != *alg) {
        return refuse("token algorithm does not match its key");
    }
    return key;
}

outcome<std::int64_t> time_claim(const json::object& claims, std::string_view name, rounding r) {
    const auto* v = claims.if_contains(name);
    if (v == nullptr) {
        return std::numeric_limits<std::int64_t>::min();
    }
    const auto ms = to_ms(*v, r);
    if (!ms) {
        return refuse("token " + std::string(name) + " is not a number");
    }
    return *ms;
}

}  // namespace

token_verifier::token_verifier(verifier_config config)
    : config_(std::move(config)),
      leeway_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(config_.leeway).count()) {
    if (config_.keys.empty()) {
        throw std::invalid_argument("token verifier: no verification key configured");
    }
    if (config_.leeway.count() < 0 || config_.leeway > max_leeway) {
        throw std::invalid_argument("token verifier: leeway must be between 0 and 3600 seconds");
    }
    if (config_.max_token_bytes == 0) {
        throw std::invalid_argument("token verifier: max_token_bytes must be positive");
    }
}

outcome<identity> token_verifier::verify(std::string_view token, std::int64_t now_ms) const {
    now_ms = std::clamp(now_ms, -time_limit_ms, time_limit_ms);
    if (token.empty()) {
        return refuse("missing token");
    }
    if (token.size() > config_.max_token_bytes) {
        return refuse("token is larger than " + std::to_string(config_.max_token_bytes) + " bytes");
    }
    const auto dot1 = token.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return refuse("malformed token: not three dot-separated parts");
    }
    const auto header_text = base64url_decode(token.substr(0, dot1));
    if (!header_text) {
        return refuse("malformed token header: not unpadded base64url");
    }

    // Header and claims of a token under max_token_bytes fit here: parsing needs no allocation.
    unsigned char arena[4096];
    json::monotonic_resource resource(arena, sizeof arena);
    json::error_code ec;
    const json::value header = json::parse(*header_text, ec, &resource);
    if (ec) {
        return refuse("malformed token header: not JSON");
    }
    const auto checked = check_header(header, config_.keys);
    if (!checked) {
        return checked.error();
    }

    const auto signature = base64url_decode(token.substr(dot2 + 1));
    if (!signature) {
        return refuse("malformed token signature: not unpadded base64url");
    }
    if (!verify_signature(**checked, token.substr(0, dot2), *signature)) {
        return refuse("bad token signature");
    }

    // From here on the claims are the issuer's, not whoever sent the token.
    const auto payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
    if (!payload_text) {
        return refuse("malformed token payload: not unpadded base64url");
    }
    const json::value payload = json::parse(*payload_text, ec, &resource);
    if (ec) {
        return refuse("malformed token payload: not JSON");
    }
    const auto* claims = payload.if_object();
    if (claims == nullptr) {
        return refuse("malformed token payload: not a JSON object");
    }

    const auto* exp_value = claims->if_contains("exp");
    if (exp_value == nullptr) {
        return refuse("token has no expiry (exp)");
    }
    const auto exp_ms = to_ms(*exp_value, rounding::down);
    if (!exp_ms) {
        return refuse("token exp is not a number");
    }
    if (now_ms > *exp_ms + leeway_ms_) {
        return refuse("token expired " + seconds_text(now_ms - *exp_ms) + " ago");
    }
    const auto nbf_ms = time_claim(*claims, "nbf", rounding::up);
    if (!nbf_ms) {
        return nbf_ms.error();
    }
    if (now_ms + leeway_ms_ < *nbf_ms) {
        return refuse("token not valid yet (for another " + seconds_text(*nbf_ms - now_ms) + ")");
    }
    const auto iat_ms = time_claim(*claims, "iat", rounding::up);
    if (!iat_ms) {
        return iat_ms.error();
    }
    if (now_ms + leeway_ms_ < *iat_ms) {
        return refuse("token issued in the future (" + seconds_text(*iat_ms - now_ms) +
                      " ahead; check the clocks)");
    }

    if (!config_.issuer.empty()) {
        const auto* iss = claims->if_contains("iss");
        if (iss == nullptr) {
            return refuse("token has no issuer (iss)");
        }
        if (!iss->is_string() || view(iss->get_string()) != config_.issuer) {
            return refuse("token is from another issuer");
        }
    }
    if (!config_.audience.empty()) {
        const auto* aud = claims->if_contains("aud");
        if (aud == nullptr) {
            return refuse("token has no audience (aud)");
        }
        auto ours = [&](const json::value& v) {
            return v.is_string() && view(v.get_string()) == config_.audience;
        };
        const auto* list = aud->if_array();
        if (!(ours(*aud) || (list != nullptr && std::any_of(list->begin(), list->end(), ours)))) {
            return refuse("token is for another audience");
        }
    }

    const auto* sub = claims->if_contains("sub");
    if (sub == nullptr) {
        return refuse("token has no subject (sub)");
    }
    // The subject becomes the user id: the protocol's id rule.
    if (!sub->is_string() || !is_valid_id(view(sub->get_string()))) {
        return refuse("token subject must be 1.." + std::to_string(max_id_bytes) +
                      " characters of A-Z a-z 0-9 . _ : -");
    }
    const auto* role_value = claims->if_contains("role");
    if (role_value == nullptr) {
        return refuse("token has no role");
    }
    const auto user_role =
        role_value->is_string() ? parse_role(view(role_value->get_string())) : std::nullopt;
    if (!user_role) {
        return refuse("token role must be \"client\" or \"specialist\"");
    }
    return identity{std::string(view(sub->get_string())), *user_role, *exp_ms};
}

}  // namespace confide::auth

#pragma once
// What the token verifier's tests share: a verifier with one key of each algorithm, the keys
// behind it, token assembly, and the check that a token was refused for a given reason.

#include "auth/token_verifier.hpp"
#include "test_keys.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace confide::auth::test {

/// The "now" every test verifies at, in seconds and milliseconds.
inline constexpr std::int64_t fixed_now_s = 1'700'000'000;
inline constexpr std::int64_t fixed_now_ms = fixed_now_s * 1000;

inline const std::string secret256(32, 'a');
inline const std::string secret384(48, 'b');
inline const std::string secret512(64, 'c');

/// Key pairs are slow to generate: one set for the whole suite.
struct shared_keys {
    temp_dir dir;
    pkey_ptr rsa = generate_rsa(2048);
    pkey_ptr rsa_new = generate_rsa(2048);
    pkey_ptr ec = generate_ec("P-256");
    std::string rsa_pem = public_pem(rsa.get());
    std::string rsa_path = dir.write("rsa.pem", rsa_pem);
    std::string rsa_new_path = dir.write("rsa-new.pem", public_pem(rsa_new.get()));
    std::string ec_path = dir.write("ec.pem", public_pem(ec.get()));
};
const shared_keys& keys();

/// One key of each algorithm, each under its own kid: hs256, hs384, hs512, rsa, ec.
std::vector<std::string> all_specs();

token_verifier make_verifier(const std::vector<std::string>& specs, std::string issuer = {},
                             std::string audience = {});

/// The verifier of all_specs(), built once.
const token_verifier& verifier();

/// Valid claims for alice, a client, at fixed_now_s.
boost::json::object claims();

/// {"alg": alg, "typ": "JWT", "kid": kid}, without kid when it is empty.
boost::json::object header(std::string_view alg, std::string_view kid);

signer hs(algorithm alg, std::string secret);
signer rs(EVP_PKEY* key = keys().rsa.get());
signer es();
/// Always "signs" with `sig`.
signer raw(std::string sig);

std::string jws(const boost::json::value& h, const boost::json::value& p, const signer& s);
std::string hs256_token(const boost::json::object& p, std::string_view kid = "hs256");

/// Refused with errc::unauthenticated, for the reason `why`, and without quoting the token.
::testing::AssertionResult refused(const outcome<identity>& r, std::string_view why,
                                   std::string_view token);
::testing::AssertionResult refused(const std::string& token, std::string_view why,
                                   const token_verifier& v = verifier(),
                                   std::int64_t at = fixed_now_ms);

std::string flip_signature_bit(const std::string& token, std::size_t byte, unsigned char mask);
std::string truncate_signature(const std::string& token, std::size_t drop);

}  // namespace confide::auth::test

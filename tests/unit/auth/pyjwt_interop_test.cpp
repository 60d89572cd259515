// Interoperability with PyJWT, an independent JWS implementation: tokens it mints must verify
// here, and tokens minted here must verify there. Runs Debian's /usr/bin/python3 (python3-jwt,
// python3-cryptography); a missing interpreter or module fails the test, it never skips.

#include "auth/token_verifier.hpp"
#include "common/clock.hpp"
#include "confide/dev_token.hpp"
#include "test_keys.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace confide::auth {
namespace {

namespace json = boost::json;

constexpr const char* python = "/usr/bin/python3";

// mint <alg> <kid> <key file> <claims file>: prints the token.
// verify <alg> <key file> <token> <audience> <issuer>: prints {"header":…, "claims":…}.
constexpr const char* script = R"PY(
import json, sys
import jwt

mode = sys.argv[1]
if mode == "mint":
    alg, kid, key_path, claims_path = sys.argv[2:6]
    key = open(key_path, "rb").read()
    claims = json.load(open(claims_path))
    token = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
    print(token if isinstance(token, str) else token.decode())
elif mode == "verify":
    alg, key_path, token, audience, issuer = sys.argv[2:7]
    key = open(key_path, "rb").read()
    claims = jwt.decode(token, key, algorithms=[alg], audience=audience, issuer=issuer,
                        options={"require": ["exp", "iat", "sub"]})
    print(json.dumps({"header": jwt.get_unverified_header(token), "claims": claims}))
else:
    sys.exit("unknown mode " + mode)
)PY";

struct run_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

std::string quote(const std::string& arg) {
    std::string q = "'";
    for (char c : arg) {
        if (c == '\'') {
            q += "'\\''";
        } else {
            q += c;
        }
    }
    return q + "'";
}

class PyJwtInterop : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(::access(python, X_OK), 0)
            << python << " is missing: the PyJWT interoperability test needs Debian's python3 "
            << "with python3-jwt and python3-cryptography (run scripts/install-deps.sh)";
        script_path_ = dir_.write("pyjwt_tool.py", script);
        const auto probe = run({"-c", "import jwt, cryptography; print(jwt.__version__)"});
        ASSERT_EQ(probe.exit_code, 0)
            << python << " cannot import jwt and cryptography: install python3-jwt and "
            << "python3-cryptography (scripts/install-deps.sh). stderr:\n"
            << probe.err;
    }

    // Runs python with `args`; stdout and stderr captured separately. Isolated mode (-I): no
    // PYTHONPATH or user site-packages, so it is Debian's PyJWT that is tested.
    run_result run(const std::vector<std::string>& args) {
        const auto err_path = (dir_.path() / "stderr.txt").string();
        std::string cmd = std::string(python) + " -I";
        for (const auto& a : args) {
            cmd += " " + quote(a);
        }
        cmd += " 2>" + quote(err_path);
        run_result r;
        FILE* pipe = ::popen(cmd.c_str(), "r");
        if (pipe == nullptr) {
            r.err = "popen failed";
            return r;
        }
        char buf[4096];
        std::size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
            r.out.append(buf, n);
        }
        const int status = ::pclose(pipe);
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::ifstream err(err_path);
        std::stringstream ss;
        ss << err.rdbuf();
        r.err = ss.str();
        while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) {
            r.out.pop_back();
        }
        return r;
    }

    // A token PyJWT mints with `alg`, kid `kid` and the key in `key_path`.
    std::string pyjwt_mint(const std::string& alg, const std::string& kid,
                           const std::string& key_path, const json::object& claims) {
        const auto claims_path = dir_.write("claims.json", json::serialize(claims));
        const auto r = run({script_path_, "mint", alg, kid, key_path, claims_path});
        EXPECT_EQ(r.exit_code, 0) << "PyJWT could not mint " << alg << ":\n" << r.err;
        return r.out;
    }

    json::object claims(std::int64_t now_s) const {
        return {{"sub", "py-user.1"},
                {"role", "specialist"},
                {"exp", now_s + 300},
                {"iat", now_s},
                {"nbf", now_s - 1},
                {"iss", "platform"},
                {"aud", json::array{"other", "confide"}}};
    }

    token_verifier verifier(const std::vector<std::string>& specs) const {
        verifier_config c;
        c.keys = key_set::from_specs(specs);
        c.issuer = "platform";
        c.audience = "confide";
        return token_verifier(std::move(c));
    }

    void expect_verified(const token_verifier& v, const std::string& token) {
        ASSERT_FALSE(token.empty());
        const auto r = v.verify(token, now_ms());
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->user_id, "py-user.1");
        EXPECT_EQ(r->user_role, role::specialist);
    }

    test::temp_dir dir_;
    std::string script_path_;
};

TEST_F(PyJwtInterop, PyJwtHmacTokensVerifyHere) {
    const std::int64_t now_s = now_ms() / 1000;
    const std::pair<const char*, std::size_t> algs[] = {
        {"HS256", 32}, {"HS384", 48}, {"HS512", 64}};
    for (const auto& [alg, size] : algs) {
        const std::string secret(size, 'p');
        const auto secret_path = dir_.write("secret", secret);
        const auto v = verifier({"py-" + std::string(alg) + ":" + alg + ":file:" + secret_path,
                                 "decoy:HS256:text:" + std::string(32, 'd')});
        expect_verified(v, pyjwt_mint(alg, "py-" + std::string(alg), secret_path, claims(now_s)));
    }
}

TEST_F(PyJwtInterop, PyJwtRs256TokensVerifyHere) {
    const std::int64_t now_s = now_ms() / 1000;
    const auto rsa = test::generate_rsa(2048);
    const auto priv = dir_.write("rsa.key", test::private_pem(rsa.get()));
    const auto pub = dir_.write("rsa.pem", test::public_pem(rsa.get()));
    const auto v = verifier({"py-rsa:RS256:file:" + pub});
    const auto token = pyjwt_mint("RS256", "py-rsa", priv, claims(now_s));
    expect_verified(v, token);
    // And the HS256-with-the-public-key trick, done by hand, is refused.
    EXPECT_FALSE(v.verify(
        dev_token::mint("py-rsa", test::public_pem(rsa.get()), "HS256", dev_token::claims{}),
        now_ms()));
}

TEST_F(PyJwtInterop, PyJwtEs256TokensVerifyHere) {
    const std::int64_t now_s = now_ms() / 1000;
    const auto ec = test::generate_ec("P-256");
    const auto priv = dir_.write("ec.key", test::private_pem(ec.get()));
    const auto pub = dir_.write("ec.pem", test::public_pem(ec.get()));
    const auto v = verifier({"py-ec:ES256:file:" + pub});
    // ECDSA is randomized: several signatures exercise the R||S to DER conversion.
    for (int i = 0; i < 5; ++i) {
        expect_verified(v, pyjwt_mint("ES256", "py-ec", priv, claims(now_s)));
    }
}

TEST_F(PyJwtInterop, OurHmacTokensVerifyInPyJwt) {
    const std::int64_t now_s = now_ms() / 1000;
    const std::pair<const char*, std::size_t> algs[] = {
        {"HS256", 32}, {"HS384", 48}, {"HS512", 64}};
    for (const auto& [alg, size] : algs) {
        const std::string secret(size, 'q');
        const auto secret_path = dir_.write("secret", secret);
        dev_token::claims c;
        c.sub = "alice";
        c.exp = now_s + 300;
        c.iat = now_s;
        c.nbf = now_s;
        c.iss = "platform";
        c.aud = "confide";
        const auto token = dev_token::mint("ours", secret, alg, c);
        const auto r =
            run({script_path_, "verify", alg, secret_path, token, "confide", "platform"});
        ASSERT_EQ(r.exit_code, 0) << "PyJWT refused our " << alg << " token:\n" << r.err;
        const auto out = json::parse(r.out).as_object();
        EXPECT_EQ(out.at("header").at("kid"), "ours");
        EXPECT_EQ(out.at("header").at("alg"), alg);
        EXPECT_EQ(out.at("claims").at("sub"), "alice");
        EXPECT_EQ(out.at("claims").at("role"), "client");
        EXPECT_EQ(out.at("claims").at("exp"), now_s + 300);
        // PyJWT checks our signature for real: a wrong secret makes it fail.
        const auto wrong = dir_.write("wrong", std::string(size, 'w'));
        const auto bad = run({script_path_, "verify", alg, wrong, token, "confide", "platform"});
        EXPECT_NE(bad.exit_code, 0) << "PyJWT accepted a token under the wrong secret";
    }
}

}  // namespace
}  // namespace confide::auth

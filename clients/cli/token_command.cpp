// confide-cli token: development tokens (confide_dev_token).

#include "cli.hpp"

#include "confide/dev_token.hpp"

#include <boost/program_options/value_semantic.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace confide::cli {

namespace po = boost::program_options;

int run_token(int argc, char** argv) {
    po::options_description d("token options");
    d.add_options()("help", "this text")("user", po::value<std::string>()->required(),
                                         "user id (the token's sub)")(
        "role", po::value<std::string>()->default_value("client"), "client or specialist")(
        "key-id", po::value<std::string>()->default_value("dev"),
        "kid, as in the server's --token-key KID:ALG:text:SECRET")(
        "secret", po::value<std::string>(),
        "HMAC secret, at least 32 bytes (default: $CONFIDE_DEV_SECRET)")(
        "alg", po::value<std::string>()->default_value("HS256"), "HS256, HS384 or HS512")(
        "ttl", po::value<long>()->default_value(3600), "seconds until the token expires")(
        "issuer", po::value<std::string>()->default_value(""), "iss claim (omitted if empty)")(
        "audience", po::value<std::string>()->default_value(""), "aud claim (omitted if empty)");
    po::variables_map vm;
    if (!parse(argc, argv, d, vm,
               "token --user ID [--role client|specialist] [--key-id dev] [--secret TEXT] "
               "[--ttl 3600]")) {
        return exit_ok;
    }
    std::string secret;
    if (vm.count("secret") != 0) {
        secret = vm["secret"].as<std::string>();
    } else if (const char* env = std::getenv("CONFIDE_DEV_SECRET"); env != nullptr) {
        secret = env;
    }
    if (secret.empty()) {
        throw std::invalid_argument("no secret: pass --secret or set CONFIDE_DEV_SECRET");
    }
    const auto role = vm["role"].as<std::string>();
    if (role != "client" && role != "specialist") {
        throw std::invalid_argument("--role must be client or specialist");
    }
    const long ttl = vm["ttl"].as<long>();
    if (ttl <= 0) {
        throw std::invalid_argument("--ttl must be positive");
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    dev_token::claims claims;
    claims.sub = vm["user"].as<std::string>();
    claims.role = role;
    claims.iat = now;
    claims.exp = now + ttl;
    claims.iss = vm["issuer"].as<std::string>();
    claims.aud = vm["audience"].as<std::string>();
    std::cout << dev_token::mint(vm["key-id"].as<std::string>(), secret,
                                 vm["alg"].as<std::string>(), claims)
              << "\n";
    return exit_ok;
}

}  // namespace confide::cli

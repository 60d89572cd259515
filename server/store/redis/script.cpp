#include "store/redis/script.hpp"

#include "common/check.hpp"

#include <openssl/evp.h>

#include <array>
#include <string_view>
#include <utility>

namespace confide::store::redis {
namespace {

std::string sha1_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    CONFIDE_CHECK(EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha1(), nullptr) ==
                  1);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (unsigned int i = 0; i < size; ++i) {
        out.push_back(digits[digest[i] >> 4]);
        out.push_back(digits[digest[i] & 0x0f]);
    }
    return out;
}

std::vector<std::string> command(std::string_view name, const std::string& script,
                                 const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args) {
    std::vector<std::string> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv.emplace_back(name);
    argv.push_back(script);
    argv.push_back(std::to_string(keys.size()));
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

}  // namespace

script::script(std::string body) : body_(std::move(body)), sha1_(sha1_hex(body_)) {}

awaitable<std::tuple<boost::system::error_code, reply>> script::run(
    connection& conn, std::vector<std::string> keys, std::vector<std::string> args) const {
    auto evalsha = command("EVALSHA", sha1_, keys, args);
    auto [ec, r] = co_await conn.async_exec(std::move(evalsha), use_nothrow);
    // Redis lost its script cache (restart, SCRIPT FLUSH): EVAL runs the body and caches it.
    if (ec == errc::server_error && r.str.starts_with("NOSCRIPT")) {
        auto eval = command("EVAL", body_, keys, args);
        std::tie(ec, r) = co_await conn.async_exec(std::move(eval), use_nothrow);
    }
    co_return std::tuple<boost::system::error_code, reply>(ec, std::move(r));
}

}  // namespace confide::store::redis

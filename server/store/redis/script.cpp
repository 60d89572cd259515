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

// EVALSHA, then EVAL when Redis lost its script cache (restart, SCRIPT FLUSH, a master that never
// ran it): EVAL runs the body and caches it. `exec` sends one command and is awaited.
template <class Exec>
awaitable<std::tuple<boost::system::error_code, reply>> evalsha_or_eval(
    Exec exec, const std::string& sha1, const std::string& body, std::vector<std::string> keys,
    std::vector<std::string> args) {
    auto [ec, r] = co_await exec(command("EVALSHA", sha1, keys, args));
    if (ec == errc::server_error && r.str.starts_with("NOSCRIPT")) {
        std::tie(ec, r) = co_await exec(command("EVAL", body, keys, args));
    }
    co_return std::tuple<boost::system::error_code, reply>(ec, std::move(r));
}

}  // namespace

script::script(std::string body) : body_(std::move(body)), sha1_(sha1_hex(body_)) {}

awaitable<std::tuple<boost::system::error_code, reply>> script::run(
    connection& conn, std::vector<std::string> keys, std::vector<std::string> args) const {
    auto exec = [&conn](std::vector<std::string> argv) {
        return conn.async_exec(std::move(argv), use_nothrow);
    };
    return evalsha_or_eval(exec, sha1_, body_, std::move(keys), std::move(args));
}

awaitable<std::tuple<boost::system::error_code, reply>> script::run(
    cluster& c, std::vector<std::string> keys, std::vector<std::string> args) const {
    CONFIDE_CHECK(!keys.empty());
    auto exec = [&c, slot = key_slot(keys.front())](std::vector<std::string> argv) {
        return c.async_exec(slot, std::move(argv), use_nothrow);
    };
    return evalsha_or_eval(exec, sha1_, body_, std::move(keys), std::move(args));
}

}  // namespace confide::store::redis

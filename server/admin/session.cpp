#include "admin/session.hpp"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <system_error>

namespace confide::admin {

std::string operator_name() {
    if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') {
        return std::string("os:") + sudo;
    }
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 4096> strings{};
    if (::getpwuid_r(::geteuid(), &entry, strings.data(), strings.size(), &found) == 0 &&
        found != nullptr && found->pw_name != nullptr) {
        return std::string("os:") + found->pw_name;
    }
    return "os:uid " + std::to_string(::geteuid());
}

std::string host_name() {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0) {
        return {};
    }
    return name.data();
}

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        return fallback;
    }
    return v;
}

std::uint32_t whole_number(const std::string& option, const std::string& v) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size()) {
        throw usage_error("--" + option + ": '" + v + "' is not a whole number");
    }
    return n;
}

}  // namespace confide::admin

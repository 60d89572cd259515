#include "auth/algorithm.hpp"

#include <array>
#include <utility>

namespace confide::auth {
namespace {

constexpr std::array<std::pair<algorithm, std::string_view>, 5> names{{
    {algorithm::hs256, "HS256"},
    {algorithm::hs384, "HS384"},
    {algorithm::hs512, "HS512"},
    {algorithm::rs256, "RS256"},
    {algorithm::es256, "ES256"},
}};

}  // namespace

std::string_view to_string(algorithm a) noexcept {
    for (const auto& [value, name] : names) {
        if (value == a) {
            return name;
        }
    }
    return "unknown";
}

std::optional<algorithm> parse_algorithm(std::string_view name) noexcept {
    for (const auto& [value, text] : names) {
        if (text == name) {
            return value;
        }
    }
    return std::nullopt;
}

}  // namespace confide::auth

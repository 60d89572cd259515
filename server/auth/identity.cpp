#include "auth/identity.hpp"

namespace confide::auth {

std::string_view to_string(role r) noexcept {
    switch (r) {
        case role::client:
            return "client";
        case role::specialist:
            return "specialist";
    }
    return "unknown";
}

std::optional<role> parse_role(std::string_view name) noexcept {
    if (name == "client") {
        return role::client;
    }
    if (name == "specialist") {
        return role::specialist;
    }
    return std::nullopt;
}

}  // namespace confide::auth

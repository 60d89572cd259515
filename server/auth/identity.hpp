#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confide::auth {

/// The two kinds of users. A conversation joins exactly one of each.
enum class role { client, specialist };

/// "client" / "specialist". Thread safety: safe.
std::string_view to_string(role r) noexcept;

/// The role named exactly `name` ("client" / "specialist"), or nullopt. Thread safety: safe.
std::optional<role> parse_role(std::string_view name) noexcept;

/// Who a connection is, as proven by a verified token.
struct identity {
    std::string user_id;             ///< the token's `sub`
    role user_role = role::client;   ///< the token's `role`
    std::int64_t expires_at_ms = 0;  ///< the token's `exp`, in milliseconds
};

}  // namespace confide::auth

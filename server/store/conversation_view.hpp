#pragma once

#include "routing/domain.hpp"
#include "store/redis/reply.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace confide::store {

/// A conversation's stored fields (keys::conversation, and in a conversation event its last log
/// id and the parties' delivered marks), parsed.
struct conversation_meta {
    std::string client;
    std::string specialist;
    routing::conversation_state state = routing::conversation_state::unknown;
    bool free_consultation = false;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    std::uint64_t seq = 0;                     ///< of the last message ('last': its log id)
    std::uint64_t read_c = 0, read_s = 0;      ///< read marks of client / specialist
    std::uint64_t dlv_c = 0, dlv_s = 0;        ///< delivered marks
    std::uint64_t unread_c = 0, unread_s = 0;  ///< unread counts
    std::string topic;
    std::vector<routing::time_range> preferred_times;
    std::int64_t expires_ms = 0;  ///< 0: does not expire
    routing::decline_reason decline = routing::decline_reason::unspecified;

    bool exists() const noexcept { return !client.empty(); }
};

/// Parses a flat field/value list (HMGET's fields with their names, or a conversation event's).
/// Unknown fields are ignored; malformed numbers read as 0.
conversation_meta parse_conversation_meta(std::span<const std::string_view> flat);

/// The conversation as `viewer` (one of its parties) sees it: their unread count and read mark,
/// the other party's marks.
routing::conversation view_of(std::string_view id, const conversation_meta& m,
                              std::string_view viewer);

/// One stream entry [id, [field, value, ...]] of a conversation log as a message (its body as
/// stored, i.e. sealed); nullopt when malformed.
std::optional<routing::message> parse_log_entry(const redis::reply& e, std::string_view cid);

}  // namespace confide::store

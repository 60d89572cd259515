#pragma once
// Turns what the Lua scripts write (stream entries) and publish (notices) into routing::notice
// values, and builds the notices and receipts the server hands to the scripts. Format: see
// docs/design.md, "Notices".

#include "routing/ports.hpp"
#include "store/sealing.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace confide::store {

/// Splits "<len>:<bytes><len>:<bytes>..." into views of `in`. False if malformed.
bool split_fields(std::string_view in, std::vector<std::string_view>& out);

/// Appends one "<len>:<bytes>" field.
void append_field(std::string& out, std::string_view value);

/// The notice of a message, but the two ids that Redis generates: send.lua completes it with
/// "<log id> <event id>".
std::string message_notice_prefix(std::string_view conversation_id, std::string_view sender,
                                  std::string_view client_msg_id, std::string_view time_ms,
                                  std::string_view body);

/// The event `id` ("0-<n>") of a user's stream that is message `m`. Null if `id` is not ours.
std::shared_ptr<const routing::notice> message_notice(std::string_view id, routing::message m);

/// The event `id` of `user_id`'s stream that is a conversation change: its flat field/value list
/// as written (k, c, then the conversation's fields). Null if malformed (logged by the caller).
std::shared_ptr<const routing::notice> conversation_notice(
    std::string_view user_id, std::string_view id, std::span<const std::string_view> fields);

/// Decodes a payload published to `user_id`'s channel. Null if malformed. What was sealed is
/// opened with the conversation's key if `keys` has it cached; otherwise (or when it fails its
/// check, logged) an event's notice only tells its position (routing::notice::content_elsewhere)
/// and the reader takes it from storage, which refuses and audits what fails.
std::shared_ptr<const routing::notice> decode_notice(std::string_view user_id,
                                                     std::string_view payload, const sealer& keys);

/// The payload that closes every connection of a user whose account was erased.
inline constexpr std::string_view account_erased_payload = "X";

/// The payload that tells `to` that `from` is (not) typing.
std::string typing_payload(std::string_view conversation_id, std::string_view from, bool typing);

/// The payload of a DELIVERED receipt: `user_id` received the conversation up to `seq`.
std::string delivered_payload(std::string_view conversation_id, std::string_view user_id,
                              std::uint64_t seq);

}  // namespace confide::store

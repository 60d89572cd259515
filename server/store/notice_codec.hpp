#pragma once
// Turns what the Lua scripts write (stream entries) and publish (notices) into routing::notice
// values; routing encodes their frames. Format: see server/store/scripts/prelude.lua.

#include "routing/ports.hpp"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace confide::store {

/// Splits "<len>:<bytes><len>:<bytes>..." into views of `in`. False if malformed.
bool split_fields(std::string_view in, std::vector<std::string_view>& out);

/// Appends one "<len>:<bytes>" field.
void append_field(std::string& out, std::string_view value);

/// The notice of an event of `user_id`'s stream: stream id `id` and its flat field/value list.
/// Null if the entry is malformed (logged by the caller).
std::shared_ptr<const routing::notice> event_notice(std::string_view user_id, std::string_view id,
                                                    std::span<const std::string_view> fields);

/// Decodes a payload published to `user_id`'s channel. Null if malformed.
std::shared_ptr<const routing::notice> decode_notice(std::string_view user_id,
                                                     std::string_view payload);

/// The payload that tells `to` that `from` is (not) typing.
std::string typing_payload(std::string_view conversation_id, std::string_view from, bool typing);

}  // namespace confide::store

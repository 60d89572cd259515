#pragma once
// How confide-cli shows the directory and the consultation workflow: specialists with their
// availability in the terminal's time zone, decline reasons said kindly, the safety notice, and
// preferred times typed as local dates. Pure functions of their arguments and the TZ setting.

#include "confide/client.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confide::cli {

/// "45 min", "4 h", "2 days" (as the web client says it).
std::string duration_text(std::int64_t ms);

/// A local time as people read it: "Monday 09:00" within six days of `now_ms`, else
/// "Monday 14 December 09:00".
std::string when_text(std::int64_t at_ms, std::int64_t now_ms);

/// From the office hours the server sent and this clock: "in office hours until 17:00",
/// "away until Monday 09:00", "away" (no hours in the next week), or "" (no office hours).
std::string availability_text(const client::availability& a, std::int64_t now_ms);

/// "replies within 4 h · median first reply 2 h (3 inquiries, last 30 days)", or "".
std::string reply_time_text(const client::availability& a);

/// A directory entry in three lines (name and id, what they offer; presence and
/// availability; bio), each indented by `indent`.
std::string specialist_text(const client::specialist& s, std::int64_t now_ms,
                            const std::string& indent);

/// "⚠ <text> <crisis line>" for a client starting an inquiry.
std::string safety_notice_text(const client::safety_notice& n);

/// "Messages are kept for 30 days" (the server's retention, said at sign-in); "" for 0 (kept).
std::string retention_text(std::uint32_t days);

/// A decline reason, said kindly to the client ("" for unspecified).
std::string decline_text(client::decline_reason r);

/// The names a specialist types after /decline ("no-capacity", ...) and their meaning.
std::optional<client::decline_reason> parse_decline_reason(std::string_view name);
/// "no-capacity, outside-expertise, ..." for help texts.
std::string decline_reason_names();

/// "YYYY-MM-DD HH:MM-HH:MM" in local time (the end on the same day, or "24:00") as an absolute
/// range; nullopt when malformed.
std::optional<client::time_range> parse_local_range(std::string_view text);

/// "Monday 10:00–11:00" in local time.
std::string range_text(const client::time_range& r, std::int64_t now_ms);

}  // namespace confide::cli

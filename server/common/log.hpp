#pragma once
// The one logging facade. Log lines carry ids (connection, user, conversation), never message
// bodies and never tokens.
//
// A line about one connection starts with "conn=<id> user=<id> " (routing) or "conn <id>: "
// (the network layer); about one user with "user=<id> ". The JSON format lifts these into fields.

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace confide::log {

/// Sets up the process-wide logger on stderr: `level` is one of trace, debug, info, warn, error,
/// off; `format` is "text" (a timestamp, the level, the message) or "json" (see
/// json_formatter). `node` names this server in JSON lines (omitted when empty). Throws
/// std::invalid_argument for another level or format. Call once from main before other threads
/// run.
void init(std::string_view level, std::string_view format = "text", std::string node = {});

/// Whether `level` names a log level init() accepts.
bool is_valid_level(std::string_view level) noexcept;

/// One JSON object per line: {"time":"2026-01-31T12:00:00.123Z","level":"info","node":"n1",
/// "conn":"ab12","user":"alice","msg":"..."}. "conn" and "user" are taken from the line's
/// leading "conn=<id> user=<id> ", "conn <id>: " or "user=<id> " (and removed from "msg");
/// strings are escaped, and bytes that are not UTF-8 become U+FFFD.
std::unique_ptr<spdlog::formatter> json_formatter(std::string node);

/// Writes `json_line` (one JSON object, no newline) as a line of its own to stderr, whatever the
/// log level: the audit trail's copy in the log (routing/audit.hpp). Thread safety: safe.
void audit(std::string_view json_line);

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

}  // namespace confide::log

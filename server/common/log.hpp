#pragma once
// The one logging facade. Log lines carry ids (connection, user, conversation), never message
// bodies and never tokens.

#include <spdlog/spdlog.h>

#include <string_view>

namespace confide::log {

/// Sets up the process-wide logger: `level` is one of trace, debug, info, warn, error, off.
/// Throws std::invalid_argument for another value. Call once from main before other threads run.
void init(std::string_view level);

/// Whether `level` names a log level init() accepts.
bool is_valid_level(std::string_view level) noexcept;

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

}  // namespace confide::log

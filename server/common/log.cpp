#include "common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <stdexcept>
#include <string>

namespace confide::log {

bool is_valid_level(std::string_view level) noexcept {
    return level == "trace" || level == "debug" || level == "info" || level == "warn" ||
           level == "error" || level == "off";
}

void init(std::string_view level) {
    if (!is_valid_level(level)) {
        throw std::invalid_argument("unknown log level '" + std::string(level) + "'");
    }
    // stderr, so that stdout stays free for machine-readable output (the listening address).
    auto logger = spdlog::stderr_color_mt("confide");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    logger->set_level(spdlog::level::from_str(std::string(level)));
    spdlog::set_default_logger(std::move(logger));
}

}  // namespace confide::log

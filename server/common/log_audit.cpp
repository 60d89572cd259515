#include "common/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <memory>

namespace confide::log {

void audit(std::string_view json_line) {
    // A logger of its own: the line is the JSON object alone (no time or level prefix, whatever
    // the main log's format), and is written at every log level.
    static const std::shared_ptr<spdlog::logger> logger = [] {
        auto l = std::make_shared<spdlog::logger>(
            "confide.audit", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        l->set_pattern("%v");
        l->set_level(spdlog::level::info);
        l->flush_on(spdlog::level::info);
        return l;
    }();
    logger->info("{}", json_line);
}

}  // namespace confide::log

#include "store/db.hpp"

#include <strings.h>
#include <cstring>

namespace confide::store {
namespace {

bool is(std::string_view name, const char* wanted) {
    return name.size() == std::strlen(wanted) &&
           ::strncasecmp(name.data(), wanted, name.size()) == 0;
}

}  // namespace

std::string_view routing_key(const std::vector<std::string>& args) {
    if (args.size() < 2) {
        return args.empty() ? std::string_view{} : std::string_view(args[0]);
    }
    const std::string_view name = args[0];
    if (is(name, "XINFO") && args.size() > 2) {
        return args[2];
    }
    if (is(name, "XREAD") || is(name, "XREADGROUP")) {
        for (std::size_t i = 1; i + 1 < args.size(); ++i) {
            if (is(args[i], "STREAMS")) {
                return args[i + 1];
            }
        }
    }
    if ((is(name, "EVALSHA") || is(name, "EVAL")) && args.size() > 3) {
        return args[3];
    }
    return args[1];
}

std::uint16_t db::slot_of(const std::vector<std::string>& args) {
    return redis::key_slot(routing_key(args));
}

}  // namespace confide::store

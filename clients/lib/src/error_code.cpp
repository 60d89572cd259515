#include "confide/client.hpp"

namespace confide::client {

const char* to_string(error_code c) noexcept {
    switch (c) {
        case error_code::unauthenticated:
            return "unauthenticated";
        case error_code::forbidden:
            return "forbidden";
        case error_code::invalid_argument:
            return "invalid_argument";
        case error_code::too_large:
            return "too_large";
        case error_code::rate_limited:
            return "rate_limited";
        case error_code::unavailable:
            return "unavailable";
        case error_code::conflict:
            return "conflict";
        case error_code::failed_precondition:
            return "failed_precondition";
        case error_code::internal:
            return "internal";
        case error_code::not_found:
            return "not_found";
        case error_code::not_connected:
            return "not_connected";
        case error_code::timeout:
            return "timeout";
        case error_code::protocol_error:
            return "protocol_error";
    }
    return "unknown";
}

}  // namespace confide::client

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace confide::store::redis {

/// A Redis reply, copied out of hiredis (which frees its own reply after the callback).
struct reply {
    enum class kind { nil, string, status, error, integer, array };

    kind type = kind::nil;
    std::int64_t integer = 0;
    std::string str;              ///< for string, status and error
    std::vector<reply> elements;  ///< for array

    bool is_nil() const noexcept { return type == kind::nil; }
    bool is_array() const noexcept { return type == kind::array; }
    bool is_error() const noexcept { return type == kind::error; }
    bool is_string() const noexcept { return type == kind::string || type == kind::status; }
    bool is_integer() const noexcept { return type == kind::integer; }
};

}  // namespace confide::store::redis

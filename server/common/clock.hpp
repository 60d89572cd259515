#pragma once

#include <chrono>
#include <cstdint>

namespace confide {

/// Milliseconds since the Unix epoch, from the system clock (the time shown to people).
inline std::int64_t now_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace confide

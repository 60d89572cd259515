#include "common/random_id.hpp"

#include "common/check.hpp"

#include <sys/random.h>

#include <array>
#include <cstddef>

namespace confide {

std::string random_hex_id(unsigned bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::array<unsigned char, 64> raw{};
    CONFIDE_CHECK(bytes > 0 && bytes <= raw.size());
    std::size_t got = 0;
    while (got < bytes) {
        ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
        CONFIDE_CHECK(n > 0);  // only EINTR could fail here, and getrandom restarts on it
        got += static_cast<std::size_t>(n);
    }
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned i = 0; i < bytes; ++i) {
        out.push_back(digits[raw[i] >> 4]);
        out.push_back(digits[raw[i] & 0x0f]);
    }
    return out;
}

}  // namespace confide

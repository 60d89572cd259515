#pragma once

#include <string>

namespace confide {

/// `bytes` bytes from the kernel's CSPRNG (getrandom), as lowercase hex: ids that cannot collide
/// or be guessed (conversation ids, connection ids). Thread safety: safe.
std::string random_hex_id(unsigned bytes = 16);

}  // namespace confide

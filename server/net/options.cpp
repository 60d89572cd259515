#include "net/options.hpp"

namespace confide::net {

std::string endpoint::to_string() const {
    if (address.find(':') != std::string::npos) {
        return "[" + address + "]:" + std::to_string(port);
    }
    return address + ":" + std::to_string(port);
}

}  // namespace confide::net

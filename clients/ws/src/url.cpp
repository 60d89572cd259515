#include "confide/ws/url.hpp"

#include <stdexcept>

namespace confide::ws {

endpoint parse_url(std::string_view url) {
    const auto bad = [&](const char* why) {
        return std::invalid_argument("bad url '" + std::string(url) + "': " + why);
    };
    endpoint ep;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        throw bad("expected ws://host:port/ or wss://host:port/");
    }
    const auto scheme = url.substr(0, scheme_end);
    if (scheme != "ws" && scheme != "wss") {
        throw bad("the scheme must be ws or wss");
    }
    ep.tls = scheme == "wss";
    auto rest = url.substr(scheme_end + 3);
    const auto path_start = rest.find_first_of("/?");
    auto authority = rest.substr(0, path_start);
    ep.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
    if (ep.target.front() == '?') {
        ep.target.insert(ep.target.begin(), '/');
    }
    if (authority.find('@') != std::string_view::npos) {
        throw bad("user info is not supported");
    }
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            throw bad("unterminated IPv6 address");
        }
        ep.host = std::string(authority.substr(1, close - 1));
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                throw bad("junk after the IPv6 address");
            }
            port = after.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        ep.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
        }
    }
    if (ep.host.empty()) {
        throw bad("no host");
    }
    if (port.empty()) {
        ep.port = ep.tls ? "443" : "80";
    } else {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
            std::stoul(std::string(port)) > 65535 || std::stoul(std::string(port)) == 0) {
            throw bad("bad port");
        }
        ep.port = std::string(port);
    }
    return ep;
}

std::string host_header(std::string_view host, std::string_view port, bool tls) {
    std::string out;
    if (host.find(':') != std::string_view::npos) {
        out.append("[").append(host).append("]");
    } else {
        out.append(host);
    }
    if (port != (tls ? "443" : "80")) {
        out.append(":").append(port);
    }
    return out;
}

}  // namespace confide::ws

#include "support/local.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <system_error>

namespace confide::test {

namespace {

// Binds a socket to 127.0.0.1:`port` (0: the kernel's choice) and returns it with the port it
// got, or -1 and errno when the port is taken.
int bind_loopback(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), "socket");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    port = ntohs(addr.sin_port);
    return fd;
}

}  // namespace

std::uint16_t free_port() {
    std::uint16_t port = 0;
    const int fd = bind_loopback(port);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), "bind to 127.0.0.1:0");
    }
    ::close(fd);
    return port;
}

std::uint16_t free_port_pair(std::uint16_t offset) {
    // Ports from 20000 up to where P + offset reaches the ephemeral range, from a random start:
    // tests running at once rarely try the same ones.
    constexpr unsigned first = 20000, ephemeral = 32768;
    if (offset >= ephemeral - first) {
        throw std::invalid_argument("free_port_pair: offset too large");
    }
    const unsigned count = ephemeral - offset - first;
    std::random_device rd;
    const unsigned start = rd() % count;
    for (unsigned i = 0; i < count; ++i) {
        std::uint16_t p = static_cast<std::uint16_t>(first + (start + i) % count);
        std::uint16_t q = static_cast<std::uint16_t>(p + offset);
        const int a = bind_loopback(p);
        if (a < 0) {
            continue;
        }
        const int b = bind_loopback(q);
        ::close(a);
        if (b >= 0) {
            ::close(b);
            return p;
        }
    }
    throw std::runtime_error("free_port_pair: no free pair of ports below 32768");
}

std::filesystem::path make_temp_dir(const std::string& prefix) {
    auto pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    return pattern;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace confide::test

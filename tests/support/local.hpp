#pragma once
// Small things of this machine that tests need: free ports and temporary directories.

#include <cstdint>
#include <filesystem>
#include <string>

namespace confide::test {

/// A port nobody listens on right now on 127.0.0.1 (the kernel's choice for port 0). Another
/// process may take it before the caller binds it: callers that can, retry with another.
std::uint16_t free_port();

/// A port P that nobody listens on right now on 127.0.0.1 and whose P + `offset` is free too,
/// both below the kernel's ephemeral range (32768 and up), so that no outgoing connection of
/// another test takes either before the caller binds them. For a Redis Cluster node, whose bus
/// listens on its port + 10000: ports the kernel hands out for port 0 are up to 60999, and Redis
/// refuses a cluster node above 55535 (one start in five failed that way). Same caveat as above.
std::uint16_t free_port_pair(std::uint16_t offset);

/// A new empty directory under the system's temporary directory, named <prefix>-XXXXXX.
std::filesystem::path make_temp_dir(const std::string& prefix);

/// A temporary directory removed (with its contents) by the destructor.
class temp_dir {
public:
    explicit temp_dir(const std::string& prefix) : path_(make_temp_dir(prefix)) {}
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace confide::test

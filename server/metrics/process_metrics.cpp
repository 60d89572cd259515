#include "metrics/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace confide::metrics {
namespace {

// Field `n` (1-based, as in proc(5)) of /proc/self/stat; 0 when it cannot be read.
double stat_field(int n) {
    std::ifstream in("/proc/self/stat");
    std::string line;
    if (!std::getline(in, line)) {
        return 0;
    }
    // The command name (field 2) is in parentheses and may contain spaces: count from after it.
    const auto close = line.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream rest(line.substr(close + 2));
    std::string value;
    for (int field = 3; field <= n; ++field) {
        if (!(rest >> value)) {
            return 0;
        }
    }
    return std::strtod(value.c_str(), nullptr);
}

double clock_ticks() {
    const long t = ::sysconf(_SC_CLK_TCK);
    return t > 0 ? static_cast<double>(t) : 100.0;
}

double boot_time() {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    while (in >> key) {
        if (key == "btime") {
            in >> value;
            return value;
        }
        in.ignore(1 << 20, '\n');
    }
    return 0;
}

double open_fds() {
    std::error_code ec;
    double n = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        ++n;
    }
    return n > 0 ? n - 1 : 0;  // the iterator's own descriptor
}

}  // namespace

std::vector<callback_handle> add_process_metrics(registry& r) {
    std::vector<callback_handle> h;
    h.push_back(r.add_callback(
        "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
        kind::counter, {}, [] { return (stat_field(14) + stat_field(15)) / clock_ticks(); }));
    h.push_back(r.add_callback(
        "process_resident_memory_bytes", "Resident memory size in bytes.", kind::gauge, {},
        [] { return stat_field(24) * static_cast<double>(::sysconf(_SC_PAGESIZE)); }));
    h.push_back(r.add_callback("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                               kind::gauge, {}, [] { return stat_field(23); }));
    h.push_back(r.add_callback("process_open_fds", "Number of open file descriptors.", kind::gauge,
                               {}, [] { return open_fds(); }));
    h.push_back(r.add_callback("process_max_fds", "Maximum number of open file descriptors.",
                               kind::gauge, {}, [] {
                                   rlimit rl{};
                                   if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
                                       return 0.0;
                                   }
                                   return static_cast<double>(rl.rlim_cur);
                               }));
    const double start = boot_time() + stat_field(22) / clock_ticks();
    h.push_back(r.add_callback("process_start_time_seconds",
                               "Start time of the process since unix epoch in seconds.",
                               kind::gauge, {}, [start] { return start; }));
    return h;
}

}  // namespace confide::metrics

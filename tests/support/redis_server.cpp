#include "support/redis_server.hpp"

#include "support/local.hpp"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace confide::test {
namespace {

using namespace std::chrono_literals;

std::string render(const redisReply& r) {
    switch (r.type) {
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
            return std::string(r.str, r.len);
        case REDIS_REPLY_ERROR:
            return "(error) " + std::string(r.str, r.len);
        case REDIS_REPLY_INTEGER:
            return std::to_string(r.integer);
        case REDIS_REPLY_ARRAY: {
            std::string out = "[";
            for (std::size_t i = 0; i < r.elements; ++i) {
                if (i > 0) {
                    out += ", ";
                }
                out += render(*r.element[i]);
            }
            return out + "]";
        }
        default:
            return "(nil)";
    }
}

std::string tail(const std::vector<std::string>& lines, std::size_t n) {
    std::string out;
    for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
        out += "\n  " + lines[i];
    }
    return out;
}

}  // namespace

redis_server::redis_server(redis_server_options opts) : opts_(std::move(opts)) {
    dir_ = make_temp_dir("confide-redis");
    std::string why;
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = opts_.cluster_bus ? free_port_pair(10000) : free_port();
        if (try_start(why)) {
            return;
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw std::runtime_error("redis-server did not start: " + why);
}

redis_server::~redis_server() {
    try {
        stop();
    } catch (...) {
        // The child_process destructor kills it anyway.
    }
    proc_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string redis_server::unix_socket() const {
    return opts_.unix_socket ? (dir_ / "redis.sock").string() : std::string();
}

bool redis_server::try_start(std::string& why) {
    std::vector<std::string> args = {
        "--port",        std::to_string(port_),
        "--bind",        host_,
        "--dir",         dir_.string(),
        "--save",        "",
        "--daemonize",   "no",
        "--logfile",     "",
        "--appendonly",  opts_.appendonly ? "yes" : "no",
        "--appendfsync", opts_.appendfsync,
    };
    if (!opts_.maxmemory_policy.empty()) {
        args.insert(args.end(), {"--maxmemory-policy", opts_.maxmemory_policy});
    }
    if (!opts_.maxmemory.empty()) {
        args.insert(args.end(), {"--maxmemory", opts_.maxmemory});
    }
    if (!opts_.password.empty()) {
        args.insert(args.end(), {"--requirepass", opts_.password});
    }
    if (opts_.unix_socket) {
        args.insert(args.end(), {"--unixsocket", unix_socket(), "--unixsocketperm", "700"});
    }
    args.insert(args.end(), opts_.extra_args.begin(), opts_.extra_args.end());

    proc_.reset();
    try {
        proc_ = std::make_unique<child_process>(
            "redis-server", std::move(args),
            child_process::options{.name = "redis:" + std::to_string(port_), .env = {}});
    } catch (const std::system_error& e) {
        if (e.code() == std::errc::no_such_file_or_directory) {
            throw std::runtime_error(
                "redis-server is not installed (not found in PATH); the integration tests need "
                "it: run scripts/install-deps.sh");
        }
        throw;
    }
    static const std::regex ready("Ready to accept connections");
    if (proc_->wait_for_line(ready, opts_.start_timeout)) {
        return true;
    }
    why = "not ready within " + std::to_string(opts_.start_timeout.count()) +
          " ms; its last lines:" + tail(proc_->lines(), 10);
    proc_->terminate(5s);
    return false;
}

void redis_server::start() {
    if (running()) {
        throw std::logic_error("redis-server is already running");
    }
    std::string why;
    if (!try_start(why)) {
        throw std::runtime_error("redis-server did not start again on port " +
                                 std::to_string(port_) + ": " + why);
    }
}

void redis_server::stop() {
    if (proc_ && !proc_->exited()) {
        proc_->terminate(10s);
    }
}

void redis_server::kill() {
    if (proc_ && !proc_->exited()) {
        proc_->signal(SIGKILL);
        proc_->wait_exit(10s);
    }
}

void redis_server::pause() {
    if (proc_) {
        proc_->signal(SIGSTOP);
    }
}

void redis_server::resume() {
    if (proc_) {
        proc_->signal(SIGCONT);
    }
}

bool redis_server::running() const {
    return proc_ && !proc_->exited();
}

child_process& redis_server::process() {
    if (!proc_) {
        throw std::logic_error("redis-server was never started");
    }
    return *proc_;
}

std::size_t redis_server::unread_bytes() const {
    std::ifstream table("/proc/net/tcp");
    std::string line;
    std::getline(table, line);  // the header
    std::size_t most = 0;
    while (std::getline(table, line)) {
        // "sl local_address rem_address st tx_queue:rx_queue ...", addresses as hex ip:port
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues;
        fields >> slot >> local >> remote >> state >> queues;
        const auto colon = local.find(':');
        const auto queue_colon = queues.find(':');
        if (colon == std::string::npos || queue_colon == std::string::npos || state != "01") {
            continue;  // not an established connection
        }
        if (std::stoul(local.substr(colon + 1), nullptr, 16) == port_) {
            most = std::max<std::size_t>(most,
                                         std::stoul(queues.substr(queue_colon + 1), nullptr, 16));
        }
    }
    return most;
}

std::string redis_server::command(const std::vector<std::string>& args) const {
    return render(*query(args));
}

std::unique_ptr<redisReply, void (*)(void*)> redis_server::query(
    const std::vector<std::string>& args) const {
    const timeval timeout{5, 0};
    redisContext* c = redisConnectWithTimeout(host_.c_str(), port_, timeout);
    if (c == nullptr || c->err != 0) {
        const std::string why = c != nullptr ? c->errstr : "out of memory";
        redisFree(c);
        throw std::runtime_error("cannot connect to redis-server at " + host_ + ":" +
                                 std::to_string(port_) + ": " + why);
    }
    redisSetTimeout(c, timeout);
    auto run = [c](const std::vector<std::string>& argv) {
        std::vector<const char*> ptrs;
        std::vector<std::size_t> lens;
        for (const auto& a : argv) {
            ptrs.push_back(a.data());
            lens.push_back(a.size());
        }
        auto* r = static_cast<redisReply*>(
            redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
        if (r == nullptr) {
            const std::string why = c->errstr;
            redisFree(c);
            throw std::runtime_error("redis-server did not answer: " + why);
        }
        return std::unique_ptr<redisReply, void (*)(void*)>(r, &freeReplyObject);
    };
    if (!opts_.password.empty()) {
        run({"AUTH", opts_.password});
    }
    auto out = run(args);
    redisFree(c);
    return out;
}

}  // namespace confide::test

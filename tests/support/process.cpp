#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <system_error>

extern char** environ;

namespace confide::test {
namespace {

// The path `name` runs as (PATH lookup when it has no slash); throws ENOENT when there is none,
// so that a missing program fails here rather than in the child.
std::string resolve_executable(const std::string& name) {
    auto usable = [](const std::string& p) { return ::access(p.c_str(), X_OK) == 0; };
    if (name.find('/') != std::string::npos) {
        if (!usable(name)) {
            throw std::system_error(ENOENT, std::generic_category(), "cannot start '" + name + "'");
        }
        return name;
    }
    const char* path = std::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        const auto colon = dirs.find(':');
        std::string dir(dirs.substr(0, colon));
        if (!dir.empty() && usable(dir + "/" + name)) {
            return dir + "/" + name;
        }
        if (colon == std::string_view::npos) {
            break;
        }
        dirs.remove_prefix(colon + 1);
    }
    throw std::system_error(ENOENT, std::generic_category(), "cannot start '" + name + "'");
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
    throw std::system_error(err, std::generic_category(), what);
}

void close_fd(int& fd) noexcept {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

// posix_spawn's own resources, released on every path.
struct spawn_setup {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attr{};
    spawn_setup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~spawn_setup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    spawn_setup(const spawn_setup&) = delete;
    spawn_setup& operator=(const spawn_setup&) = delete;
};

}  // namespace

child_process::child_process(const std::string& executable, std::vector<std::string> args,
                             options opts)
    : name_(opts.name.empty() ? std::filesystem::path(executable).filename().string()
                              : std::move(opts.name)),
      forward_(opts.forward_output) {
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    auto close_all = [&] {
        close_fd(out[0]);
        close_fd(out[1]);
        close_fd(err[0]);
        close_fd(err[1]);
    };
    // O_CLOEXEC: the pipes must not leak into this or any other child; dup2 in the child
    // clears the flag on 1 and 2.
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
        const int e = errno;
        close_all();
        throw_errno(e, "pipe2");
    }

    // The child's stdin, when the test feeds it: a socket pair rather than a pipe, so that
    // writing after the child exited is an error (MSG_NOSIGNAL) and not a SIGPIPE.
    int in[2] = {-1, -1};
    if (opts.stdin_input && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
        const int e = errno;
        close_all();
        throw_errno(e, "socketpair");
    }

    spawn_setup setup;
    if (opts.stdin_input) {
        posix_spawn_file_actions_adddup2(&setup.actions, in[1], 0);
    } else {
        posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&setup.actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&setup.actions, err[1], 2);
    // Its own process group (the destructor kills the whole group, forked helpers included),
    // default signal dispositions (the test may ignore SIGPIPE) and an empty signal mask.
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) {
        sigaddset(&defaults, s);
    }
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigdefault(&setup.attr, &defaults);
    posix_spawnattr_setsigmask(&setup.attr, &empty);
    posix_spawnattr_setpgroup(&setup.attr, 0);
    posix_spawnattr_setflags(
        &setup.attr,
        static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));

    // The child dies with the test (setpriv --pdeathsig, from util-linux, then execs it): a test
    // killed by a timeout must not leave servers running. (The signal comes when the *thread*
    // that started the child ends: start children from threads that outlive them.)
    std::string resolved = resolve_executable(executable);
    std::string setpriv = "/usr/bin/setpriv";
    std::string pdeathsig = "--pdeathsig";
    std::string sigkill = "KILL";
    std::string end_of_options = "--";
    std::vector<char*> argv;
    const bool wrap = ::access(setpriv.c_str(), X_OK) == 0;
    if (wrap) {
        for (auto* a : {&setpriv, &pdeathsig, &sigkill, &end_of_options}) {
            argv.push_back(a->data());
        }
    }
    argv.push_back(resolved.data());
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    std::map<std::string, std::string> env_map;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view kv(*e);
        const auto eq = kv.find('=');
        if (eq != std::string_view::npos) {
            env_map[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
        }
    }
    for (auto& [k, v] : opts.env) {
        env_map[k] = v;
    }
    std::vector<std::string> env_strings;
    env_strings.reserve(env_map.size());
    for (auto& [k, v] : env_map) {
        env_strings.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);

    const int rc =
        ::posix_spawn(&pid_, argv[0], &setup.actions, &setup.attr, argv.data(), envp.data());
    close_fd(out[1]);
    close_fd(err[1]);
    close_fd(in[1]);
    if (rc != 0) {
        close_all();
        close_fd(in[0]);
        throw_errno(rc, "cannot start '" + executable + "'");
    }
    input_fd_ = in[0];
    pipes_[0] = out[0];
    pipes_[1] = err[0];
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (stop_fd_ < 0) {
        const int e = errno;
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        close_fd(pipes_[0]);
        close_fd(pipes_[1]);
        close_fd(input_fd_);
        throw_errno(e, "eventfd");
    }
    readers_[0] = std::thread([this] { read_pipe(pipes_[0]); });
    readers_[1] = std::thread([this] { read_pipe(pipes_[1]); });
    reaper_ = std::thread([this] { reap(); });
}

child_process::~child_process() {
    {
        // Under the lock the child is not reaped yet, so its pid (and group id) is still ours.
        std::lock_guard lock(mutex_);
        if (!exited_) {
            ::kill(-pid_, SIGKILL);
            ::kill(pid_, SIGKILL);
        }
    }
    reaper_.join();
    {
        // The pipes close when the last holder exits; a forked helper of the child may keep
        // them open a little longer. Then the readers are told to stop anyway.
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, std::chrono::seconds(2), [this] { return closed_pipes_ == 2; });
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    for (auto& r : readers_) {
        r.join();
    }
    close_fd(pipes_[0]);
    close_fd(pipes_[1]);
    close_fd(stop_fd_);
    close_input();
    report_sanitizer_findings();
}

void child_process::report_sanitizer_findings() const {
    // A sanitizer report in a child (a server under ThreadSanitizer, say) fails the test that
    // ran it, even when the child went on working or was killed before it could exit with the
    // sanitizer's status.
    static constexpr std::string_view markers[] = {
        "WARNING: ThreadSanitizer:", "ERROR: AddressSanitizer:", "ERROR: LeakSanitizer:",
        ": runtime error: "};
    constexpr std::size_t max_lines = 60;
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < lines_.size(); ++i) {
        const bool found = std::any_of(std::begin(markers), std::end(markers), [&](auto m) {
            return lines_[i].find(m) != std::string::npos;
        });
        if (!found) {
            continue;
        }
        std::string report;
        for (std::size_t j = i; j < lines_.size() && j < i + max_lines; ++j) {
            report += lines_[j];
            report += '\n';
        }
        ADD_FAILURE() << "[" << name_ << "] sanitizer report:\n" << report;
        return;
    }
}

bool child_process::write_input(std::string_view text) {
    std::lock_guard lock(input_mutex_);
    while (!text.empty()) {
        if (input_fd_ < 0) {
            return false;
        }
        const ssize_t n = ::send(input_fd_, text.data(), text.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void child_process::close_input() {
    std::lock_guard lock(input_mutex_);
    close_fd(input_fd_);
}

void child_process::read_pipe(int fd) {
    std::string partial;
    char buf[4096];
    for (;;) {
        pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if ((fds[1].revents & POLLIN) != 0) {
            break;
        }
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        partial.append(buf, static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (auto nl = partial.find('\n'); nl != std::string::npos;
             nl = partial.find('\n', start)) {
            std::string line = partial.substr(start, nl - start);
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            add_line(std::move(line));
            start = nl + 1;
        }
        partial.erase(0, start);
    }
    if (!partial.empty()) {
        add_line(std::move(partial));
    }
    {
        std::lock_guard lock(mutex_);
        ++closed_pipes_;
    }
    cv_.notify_all();
}

void child_process::reap() {
    // Wait without reaping, then reap under the lock: signal() can never hit a recycled pid.
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0 &&
           errno == EINTR) {
    }
    {
        std::lock_guard lock(mutex_);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        exited_ = true;
        if (WIFEXITED(status)) {
            exit_status_ = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            exit_status_ = 128 + WTERMSIG(status);
        }
    }
    cv_.notify_all();
}

void child_process::add_line(std::string line) {
    if (forward_) {
        std::fprintf(stderr, "[%s] %s\n", name_.c_str(), line.c_str());
    }
    {
        std::lock_guard lock(mutex_);
        lines_.push_back(std::move(line));
    }
    cv_.notify_all();
}

std::optional<std::string> child_process::wait_for_line(
    const std::function<bool(std::string_view)>& pred, std::chrono::milliseconds timeout,
    std::size_t from) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    std::size_t i = from;
    for (;;) {
        for (; i < lines_.size(); ++i) {
            if (pred(lines_[i])) {
                return lines_[i];
            }
        }
        if (closed_pipes_ == 2) {
            return std::nullopt;
        }
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
            for (; i < lines_.size(); ++i) {
                if (pred(lines_[i])) {
                    return lines_[i];
                }
            }
            return std::nullopt;
        }
    }
}

std::optional<std::string> child_process::wait_for_line(const std::regex& re,
                                                        std::chrono::milliseconds timeout,
                                                        std::size_t from) {
    return wait_for_line(
        [&re](std::string_view line) { return std::regex_search(line.begin(), line.end(), re); },
        timeout, from);
}

std::size_t child_process::line_count() const {
    std::lock_guard lock(mutex_);
    return lines_.size();
}

std::vector<std::string> child_process::lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
}

void child_process::signal(int sig) {
    std::lock_guard lock(mutex_);
    if (!exited_) {
        ::kill(pid_, sig);
    }
}

std::optional<int> child_process::terminate(std::chrono::milliseconds timeout) {
    signal(SIGTERM);
    signal(SIGCONT);
    if (auto status = wait_exit(timeout)) {
        return status;
    }
    signal(SIGKILL);
    return wait_exit(std::chrono::seconds(10));
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [this] { return exited_; })) {
        return std::nullopt;
    }
    // The exit can be seen before the readers have read the last lines from the pipes: wait for
    // both to reach end of file, so that lines() holds all the child wrote (a forked helper of
    // the child may hold them open: then not longer than the destructor waits).
    cv_.wait_for(lock, std::chrono::seconds(2), [this] { return closed_pipes_ == 2; });
    return exit_status_;
}

bool child_process::exited() const {
    std::lock_guard lock(mutex_);
    return exited_;
}

}  // namespace confide::test

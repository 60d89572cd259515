#pragma once
// A child process for tests: started with posix_spawn, its output captured line by line and
// waited for without polling.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace confide::test {

/// Runs an executable (found through PATH) in its own process group, with stdin from /dev/null
/// (or, with options::stdin_input, from the test through write_input()) and stdout and stderr
/// captured as lines (one reader thread per pipe). Every line is also written to the test's stderr
/// as "[name] line" for debugging. The destructor kills the process group (SIGKILL) if the child
/// still runs, reaps it and joins the threads; if the child printed a sanitizer report
/// (ThreadSanitizer, AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer), it fails the
/// current test with that report.
///
/// Thread safety: every member may be called from any thread.
class child_process {
public:
    struct options {
        std::string name;  ///< prefix of forwarded lines; the executable's name when empty
        std::vector<std::pair<std::string, std::string>> env;  ///< added to the environment
        bool forward_output = true;
        bool stdin_input = false;  ///< stdin is fed by write_input() instead of /dev/null
    };

    /// Starts `executable` with `args` (argv[0] is the executable). Throws std::system_error
    /// when it cannot be started (e.g. not found: errc::no_such_file_or_directory).
    child_process(const std::string& executable, std::vector<std::string> args, options opts);
    child_process(const std::string& executable, std::vector<std::string> args)
        : child_process(executable, std::move(args), options{}) {}
    ~child_process();

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    const std::string& name() const noexcept { return name_; }

    /// The first line, from line number `from` on (0: from the start, including lines already
    /// received), that `pred` accepts, as soon as it arrives. nullopt after `timeout`, or once
    /// both pipes are closed (the process will print nothing more) without a match.
    std::optional<std::string> wait_for_line(const std::function<bool(std::string_view)>& pred,
                                             std::chrono::milliseconds timeout,
                                             std::size_t from = 0);
    /// As above, for a line in which `re` matches (std::regex_search).
    std::optional<std::string> wait_for_line(const std::regex& re,
                                             std::chrono::milliseconds timeout,
                                             std::size_t from = 0);

    /// How many lines were received so far (a `from` for wait_for_line).
    std::size_t line_count() const;
    /// A copy of every line received so far.
    std::vector<std::string> lines() const;

    /// Writes `text` to the child's stdin (options::stdin_input). False if it cannot (no such
    /// input, or the child closed its end).
    bool write_input(std::string_view text);
    /// Closes the child's stdin (it reads end of file).
    void close_input();

    /// Sends `sig` to the process (not to its group), unless it has exited already.
    void signal(int sig);

    /// SIGTERM (and SIGCONT, in case it is stopped), then SIGKILL if it has not exited after
    /// `timeout`. Returns the exit status as wait_exit() does.
    std::optional<int> terminate(std::chrono::milliseconds timeout);

    /// Waits until the process exits: its exit code, or 128 + the signal that killed it; nullopt
    /// if it still runs after `timeout`. After an exit, lines() holds everything it wrote.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

    /// Whether the process has exited (and been reaped).
    bool exited() const;

private:
    void read_pipe(int fd);
    void reap();
    void report_sanitizer_findings() const;
    void add_line(std::string line);

    std::string name_;
    bool forward_;
    pid_t pid_ = -1;
    int stop_fd_ = -1;  ///< eventfd: tells the readers to give up (grandchildren keep pipes open)
    int pipes_[2] = {-1, -1};
    int input_fd_ = -1;  ///< our end of the child's stdin (a socket: send() without SIGPIPE)
    std::mutex input_mutex_;

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::string> lines_;
    int closed_pipes_ = 0;
    bool exited_ = false;
    int exit_status_ = -1;

    std::thread readers_[2];
    std::thread reaper_;
};

}  // namespace confide::test

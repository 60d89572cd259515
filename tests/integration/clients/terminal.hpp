#pragma once
// One `confide-cli chat` process driven through its stdin as a person would type, for the
// terminal client's tests.

#include "support/process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confide::test {

using namespace std::chrono_literals;

/// One `confide-cli chat` process: type lines into it, wait for lines out of it.
class terminal {
public:
    /// `env`: more of the environment (e.g. TZ), besides CONFIDE_TOKEN.
    terminal(const std::string& name, const std::string& url, const std::string& token,
             const std::string& device, std::vector<std::pair<std::string, std::string>> env = {}) {
        child_process::options o;
        o.name = name;
        o.stdin_input = true;
        o.env = std::move(env);
        o.env.emplace_back("CONFIDE_TOKEN", token);
        process_ = std::make_unique<child_process>(
            CONFIDE_CLI_PATH, std::vector<std::string>{"chat", "--url", url, "--device", device},
            std::move(o));
    }

    void type(const std::string& line) { EXPECT_TRUE(process_->write_input(line + "\n")) << line; }

    /// The first line containing `text`, from the line counted by the last mark() on.
    std::optional<std::string> wait(std::string_view text, std::chrono::milliseconds t = 20s) {
        return process_->wait_for_line(
            [text](std::string_view l) { return l.find(text) != std::string_view::npos; }, t,
            from_);
    }
    /// Later waits look at what comes from now on only.
    void mark() { from_ = process_->line_count(); }

    /// How many lines contain `text`.
    std::size_t count(std::string_view text) const {
        std::size_t n = 0;
        for (const auto& l : process_->lines()) {
            n += l.find(text) != std::string::npos ? 1U : 0U;
        }
        return n;
    }

    child_process& process() { return *process_; }

private:
    std::unique_ptr<child_process> process_;
    std::size_t from_ = 0;
};

}  // namespace confide::test

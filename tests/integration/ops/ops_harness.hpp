#pragma once
// Helpers of the operations tests: HTTP endpoints of a real server, its metrics parsed.

#include "support/http_get.hpp"
#include "support/metrics_text.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace confide::test {

using namespace std::chrono_literals;

/// GET `target` on 127.0.0.1:`port` (plain HTTP).
inline http_reply get(std::uint16_t port, const std::string& target) {
    http_request r;
    r.port = port;
    r.target = target;
    return http_get(r);
}

/// The server's metrics now.
inline std::map<std::string, double> scrape(std::uint16_t port) {
    auto r = get(port, "/metrics");
    EXPECT_EQ(r.status, 200) << r.error;
    return parse_metrics(r.body);
}

/// Checks `pred` until it holds or `timeout` passes (for state that announces no event, such as
/// an HTTP endpoint's answer): true when it held.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

/// Runs `tool args...` with `input` on its stdin; its exit code and output.
struct tool_result {
    int code = -1;
    std::string output;
};
inline tool_result run_tool(const std::string& tool, std::vector<std::string> args,
                            const std::string& input = {}) {
    child_process::options o;
    o.name = tool;
    o.stdin_input = !input.empty();
    child_process p(tool, std::move(args), std::move(o));
    if (!input.empty()) {
        p.write_input(input);
        p.close_input();
    }
    tool_result r;
    r.code = p.wait_exit(60s).value_or(-1);
    p.wait_for_line([](std::string_view) { return false; }, 2s);  // the last lines
    for (const auto& l : p.lines()) {
        r.output += l + "\n";
    }
    return r;
}

}  // namespace confide::test

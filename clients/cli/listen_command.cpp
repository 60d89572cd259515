// confide-cli listen: every event as one JSON line on stdout.

#include "cli.hpp"

#include <boost/json/serialize.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>

namespace confide::cli {

namespace po = boost::program_options;

int run_listen(int argc, char** argv) {
    po::options_description d("listen options");
    d.add_options()("help", "this text");
    add_connection_options(d);
    d.add_options()("count", po::value<std::size_t>()->default_value(0),
                    "exit 0 after this many events (state lines do not count); 0: no limit")(
        "timeout", po::value<double>()->default_value(0),
        "seconds; then exit 0, or 4 if --count was not reached; 0: no limit");
    po::variables_map vm;
    if (!parse(argc, argv, d, vm, "listen [--url U] --token T [--count N] [--timeout S]")) {
        return exit_ok;
    }
    const auto count = vm["count"].as<std::size_t>();
    const auto timeout = std::chrono::duration<double>(vm["timeout"].as<double>());

    std::mutex mutex;
    std::condition_variable cv;
    std::optional<int> outcome;
    std::size_t seen = 0;
    auto emit = [&](const boost::json::object& o, bool counts) {
        std::lock_guard lock(mutex);
        if (outcome) {
            return;
        }
        std::cout << boost::json::serialize(o) << std::endl;
        if (counts && count != 0 && ++seen >= count) {
            outcome = exit_ok;
            cv.notify_all();
        }
    };
    client::handlers h;
    h.on_message = [&](const client::message& m) { emit(to_json(m), true); };
    h.on_conversation = [&](const client::conversation& c) { emit(to_json(c), true); };
    h.on_receipt = [&](const client::receipt& r) { emit(to_json(r), true); };
    h.on_presence = [&](const client::presence& p) { emit(to_json(p), true); };
    h.on_typing = [&](const client::typing& t) { emit(to_json(t), true); };
    h.on_reset = [&] { emit(boost::json::object{{"type", "reset"}}, false); };
    h.on_state = [&](const client::state_change& s) {
        emit(to_json(s), false);
        if (s.state == client::connection_state::closed) {
            std::lock_guard lock(mutex);
            if (!outcome) {
                outcome = exit_closed;
                cv.notify_all();
            }
        }
    };

    client::client c{connection_options(vm, "cli-listen-" + random_hex(6)), h};
    c.start();
    std::unique_lock lock(mutex);
    const auto done = [&] { return outcome.has_value(); };
    if (timeout.count() > 0) {
        if (!cv.wait_for(lock, timeout, done)) {
            outcome = count != 0 ? exit_timeout : exit_ok;
        }
    } else {
        cv.wait(lock, done);
    }
    return *outcome;
}

}  // namespace confide::cli

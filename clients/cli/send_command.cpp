// confide-cli send: one message, then wait for the server's ack. Prints the ack as JSON.

#include "cli.hpp"
#include "directory_text.hpp"

#include <boost/json/serialize.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace confide::cli {

namespace po = boost::program_options;

int run_send(int argc, char** argv) {
    po::options_description d("send options");
    d.add_options()("help", "this text");
    add_connection_options(d);
    d.add_options()("to-specialist", po::value<std::string>(),
                    "write to this specialist (client role; opens an inquiry if needed)")(
        "conversation", po::value<std::string>(), "write into this conversation")(
        "text", po::value<std::string>()->required(), "the message")(
        "free-consultation", po::bool_switch(), "with --to-specialist: ask for a free one")(
        "topic", po::value<std::string>()->default_value(""),
        "with --to-specialist: what a new inquiry is about")(
        "prefer", po::value<std::vector<std::string>>()->composing(),
        "with --to-specialist: a preferred time for the initial consultation, "
        "\"YYYY-MM-DD HH:MM-HH:MM\" in local time (repeatable, at most 5)")(
        "timeout", po::value<double>()->default_value(10.0), "seconds to wait for the ack");
    po::variables_map vm;
    if (!parse(argc, argv, d, vm,
               "send [--url U] --token T (--to-specialist S [--topic T] [--prefer P]... | "
               "--conversation C) --text TEXT [--timeout 10]")) {
        return exit_ok;
    }
    const bool to_specialist = vm.count("to-specialist") != 0;
    if (to_specialist == (vm.count("conversation") != 0)) {
        throw std::invalid_argument("give exactly one of --to-specialist and --conversation");
    }
    const auto timeout = std::chrono::duration<double>(vm["timeout"].as<double>());
    client::inquiry_details details;
    details.free_consultation = vm["free-consultation"].as<bool>();
    details.topic = vm["topic"].as<std::string>();
    if (vm.count("prefer") != 0) {
        for (const auto& p : vm["prefer"].as<std::vector<std::string>>()) {
            const auto range = parse_local_range(p);
            if (!range) {
                throw std::invalid_argument(
                    "--prefer: expected \"YYYY-MM-DD HH:MM-HH:MM\", got \"" + p + "\"");
            }
            details.preferred_times.push_back(*range);
        }
    }
    if (!to_specialist &&
        (!details.topic.empty() || !details.preferred_times.empty() || details.free_consultation)) {
        throw std::invalid_argument(
            "--topic, --prefer and --free-consultation go with --to-specialist");
    }

    std::mutex mutex;
    std::condition_variable cv;
    std::optional<int> outcome;
    std::string id;
    client::handlers h;
    h.on_send_update = [&](const client::send_update& u) {
        std::lock_guard lock(mutex);
        if (u.client_msg_id != id || outcome) {
            return;
        }
        if (u.state == client::send_state::sent) {
            std::cout << boost::json::serialize(to_json(u)) << std::endl;
            outcome = exit_ok;
        } else if (u.state == client::send_state::failed) {
            std::fprintf(stderr, "confide-cli send: rejected: %s (%s)\n",
                         u.err ? u.err->message.c_str() : "",
                         u.err ? client::to_string(u.err->code) : "");
            outcome = exit_rejected;
        }
        cv.notify_all();
    };
    h.on_state = [&](const client::state_change& s) {
        std::lock_guard lock(mutex);
        if (s.state == client::connection_state::closed && !outcome) {
            std::fprintf(stderr, "confide-cli send: %s: %s\n", to_string(s.reason),
                         s.detail.c_str());
            outcome = exit_closed;
            cv.notify_all();
        }
    };

    client::client c{connection_options(vm, "cli-send-" + random_hex(6)), h};
    const auto text = vm["text"].as<std::string>();
    {
        // Held while sending, so that the updates for this id wait until we know it.
        std::lock_guard lock(mutex);
        id = to_specialist
                 ? c.start_inquiry(vm["to-specialist"].as<std::string>(), text, std::move(details))
                 : c.send_message(vm["conversation"].as<std::string>(), text);
    }
    c.start();
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, timeout, [&] { return outcome.has_value(); })) {
        std::fprintf(stderr, "confide-cli send: no ack within %.1f s\n", timeout.count());
        outcome = exit_timeout;
    }
    return *outcome;
}

}  // namespace confide::cli

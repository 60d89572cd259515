// confide-server: parse the configuration, build app::server, run it.

#include "app/config.hpp"
#include "app/server.hpp"
#include "common/log.hpp"
#include "protocol/codec.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    using namespace confide;
    // Writes to a socket the peer closed must fail with EPIPE, not kill the process (hiredis
    // writes with write(2)).
    std::signal(SIGPIPE, SIG_IGN);

    app::config cfg;
    try {
        cfg = app::parse_config(argc, argv);
    } catch (const app::config_error& e) {
        std::cerr << "confide-server: " << e.what() << "\n(see confide-server --help)\n";
        return 2;
    }
    if (cfg.help_requested) {
        std::cout << app::usage_text();
        return 0;
    }

    const bool json_log = cfg.log_format == "json";
    try {
        log::init(cfg.log_level, cfg.log_format, cfg.node_id);
        protocol::quiet_protobuf_logging();
        log::info("confide-server starting: {}", app::describe(cfg));
        app::server server(std::move(cfg));
        server.run();
    } catch (const std::exception& e) {
        log::error("fatal: {}", e.what());
        if (!json_log) {  // a JSON log stays one object per line
            std::cerr << "confide-server: " << e.what() << "\n";
        }
        return 1;
    }
    return 0;
}

// confide-cli: a terminal client for Confide, and the tools to script one.

#include "cli.hpp"

#include <boost/program_options/errors.hpp>

#include <cstdio>
#include <exception>
#include <string_view>

#include <csignal>

namespace {

constexpr const char* usage =
    R"(usage: confide-cli COMMAND [OPTIONS]   (COMMAND --help for its options)

  token   print a development token (HS256), signed with --secret or $CONFIDE_DEV_SECRET
  chat    interactive chat, for clients and specialists
  send    send one message and wait for the server's ack (scriptable)
  listen  print events as JSON lines (scriptable)

exit codes: 0 ok, 1 error, 2 usage, 3 rejected by the server, 4 timeout, 5 connection closed for
good (token rejected, too many connections, signed out)
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace confide::cli;
    std::signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        std::fputs(usage, stderr);
        return exit_usage;
    }
    const std::string_view command = argv[1];
    try {
        if (command == "token") {
            return run_token(argc - 1, argv + 1);
        }
        if (command == "chat") {
            return run_chat(argc - 1, argv + 1);
        }
        if (command == "send") {
            return run_send(argc - 1, argv + 1);
        }
        if (command == "listen") {
            return run_listen(argc - 1, argv + 1);
        }
        if (command == "help" || command == "--help" || command == "-h") {
            std::fputs(usage, stdout);
            return exit_ok;
        }
        std::fprintf(stderr, "confide-cli: unknown command '%s'\n\n%s", argv[1], usage);
        return exit_usage;
    } catch (const boost::program_options::error& e) {
        std::fprintf(stderr, "confide-cli %s: %s\n", argv[1], e.what());
        return exit_usage;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "confide-cli %s: %s\n", argv[1], e.what());
        return exit_usage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "confide-cli %s: %s\n", argv[1], e.what());
        return exit_failure;
    }
}

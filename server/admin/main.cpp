// confide-admin: the operator's tool (see admin.hpp and `confide-admin --help`).

#include "admin/admin.hpp"

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
    // hiredis writes with write(2): a closed socket must fail with EPIPE, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> args(argv + 1, argv + argc);
    return confide::admin::run(args, std::cout, std::cerr);
}

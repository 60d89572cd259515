// A specialist bot built on the client library: accepts every inquiry and answers each message
// with its echo. Stops on Ctrl-C, or when the server ends the session.
//
//   confide_echo_specialist ws://127.0.0.1:8080/ "$(confide-cli token --user bot --role
//   specialist)"

#include "confide/client.hpp"

#include <csignal>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace cc = confide::client;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s URL TOKEN [DEVICE]\n", argv[0]);
        return 2;
    }
    // Block the stop signals in every thread (the library's inherits the mask): main waits for
    // them with sigwait, and a closed client sends itself one.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    cc::options o;
    o.url = argv[1];
    o.device_id = argc > 3 ? argv[3] : "echo-specialist";
    o.token_provider = [token = std::string(argv[2])] { return token; };

    cc::client* c = nullptr;
    cc::handlers h;
    h.on_state = [](const cc::state_change& s) {
        if (s.state == cc::connection_state::connected) {
            std::printf("connected as %s\n", s.user_id.c_str());
        } else if (s.state == cc::connection_state::connection_lost) {
            std::printf("connection lost (%s), reconnecting\n", s.detail.c_str());
        } else if (s.state == cc::connection_state::closed) {
            std::printf("closed: %s\n", s.detail.c_str());
            kill(getpid(), SIGTERM);
        }
        std::fflush(stdout);
    };
    h.on_conversation = [&c](const cc::conversation& conv) {
        if (conv.state == cc::conversation_state::inquiry) {
            c->accept(conv.id);
        }
    };
    h.on_message = [&c](const cc::message& m) {
        if (m.outgoing) {
            return;
        }
        c->mark_read(m.conversation_id, m.seq);
        c->send_message(m.conversation_id, "echo: " + m.body);
    };
    h.on_send_update = [](const cc::send_update& u) {
        if (u.state == cc::send_state::failed && u.err) {
            std::printf("send %s failed: %s\n", u.client_msg_id.c_str(), u.err->message.c_str());
        }
    };

    cc::client client{o, h};
    c = &client;
    client.start();
    int sig = 0;
    sigwait(&stop_signals, &sig);
    return 0;
}

#include "confide/client.hpp"

#include "core.hpp"
#include "runner.hpp"

#include "confide/ws/tls.hpp"
#include "confide/ws/url.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

namespace confide::client {

namespace asio = boost::asio;

namespace {

// A graceful close on stop() or destruction waits at most this long for the server.
constexpr auto close_timeout = std::chrono::milliseconds(2000);

bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string random_hex(unsigned bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::random_device rd;
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned i = 0; i < bytes; ++i) {
        const auto b = rd() & 0xffU;
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0xfU]);
    }
    return out;
}

std::uint64_t random_seed() {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
}

options checked(options o) {
    if (!valid_id(o.device_id)) {
        throw std::invalid_argument("device_id must be 1..128 chars of [A-Za-z0-9._:-]");
    }
    if (!o.token_provider) {
        throw std::invalid_argument("token_provider is required");
    }
    return o;
}

ws::connect_options connect_options_for(const options& o) {
    const auto ep = ws::parse_url(o.url);
    ws::connect_options c;
    c.host = ep.host;
    c.port = ep.port;
    c.target = ep.target;
    if (ep.tls) {
        try {
            c.tls = ws::make_tls_context(o.ca_file);
        } catch (const std::runtime_error& e) {
            throw std::invalid_argument(e.what());
        }
    }
    c.headers = {{"User-Agent", "confide-client"}};
    c.open_timeout = o.connect_timeout;
    c.close_timeout = close_timeout;
    return c;
}

}  // namespace

struct client::impl final : detail::runner_owner {
    impl(options o, handlers hs)
        : opts(checked(std::move(o))),
          target(connect_options_for(opts)),
          h(std::move(hs)),
          work(asio::make_work_guard(ioc)),
          core(opts, random_seed()),
          runner(ioc.get_executor(), core, target, *this),
          id_prefix(opts.device_id.substr(0, 64) + "." + random_hex(8) + ".") {}

    // Runs `f(now)` on the library's thread, then whatever the core decided.
    template <class F>
    void post(F f) {
        asio::post(ioc, [this, f = std::move(f)]() mutable {
            if (shutting_down) {
                return;
            }
            f(clock::now());
            runner.drain();
        });
    }

    // runner_owner: on the library's thread.
    void on_callback(std::function<void()>& fn) override {
        if (!shutting_down) {
            invoke(fn);
        }
    }
    void on_notify(detail::notification& n) override {
        // The destructor reports nothing, but the cursor of its last ack is still saved: it is
        // where the next run of the application resumes, and an older one would show the
        // events since then a second time.
        if (shutting_down && !std::holds_alternative<detail::cursor_saved>(n)) {
            return;
        }
        std::visit([this](auto& x) { deliver(x); }, n);
    }

    void deliver(const state_change& s) { invoke(h.on_state, s); }
    void deliver(const message& m) { invoke(h.on_message, m); }
    void deliver(const conversation& c) { invoke(h.on_conversation, c); }
    void deliver(const receipt& r) { invoke(h.on_receipt, r); }
    void deliver(const presence& p) { invoke(h.on_presence, p); }
    void deliver(const typing& t) { invoke(h.on_typing, t); }
    void deliver(const send_update& u) { invoke(h.on_send_update, u); }
    void deliver(const detail::reset_notice&) { invoke(h.on_reset); }
    void deliver(const detail::cursor_saved& c) { invoke(opts.save_cursor, c.cursor); }
    void deliver(const detail::synced_notice&) {}

    // Callbacks must not throw: an exception escaping here would end the library's thread.
    template <class Fn, class... Args>
    static void invoke(const Fn& fn, const Args&... args) noexcept {
        if (fn) {
            fn(args...);
        }
    }

    void shutdown() {
        if (!shutting_down) {
            core.stop(clock::now());
            shutting_down = true;
            runner.drain();
        }
        runner.shut_down();
        work.reset();
    }

    std::string next_msg_id() { return id_prefix + std::to_string(++msg_counter); }

    options opts;
    ws::connect_options target;
    handlers h;
    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> work;
    detail::core core;
    detail::runner runner;
    std::string id_prefix;
    std::atomic<std::uint64_t> msg_counter{0};
    bool shutting_down = false;
    std::thread thread;
};

client::client(options opts, handlers h)
    : impl_(std::make_unique<impl>(std::move(opts), std::move(h))) {
    impl_->thread = std::thread([i = impl_.get()] { i->ioc.run(); });
}

// The post may throw bad_alloc and the join system_error (only if the thread were not
// joinable, a broken invariant). Either way the library's thread would go on using impl_ after
// it is freed: terminating (noexcept) beats returning.
client::~client() {  // NOLINT(bugprone-exception-escape)
    if (std::this_thread::get_id() == impl_->thread.get_id()) {
        std::fputs("confide::client destroyed from its own callback\n", stderr);
        std::abort();
    }
    asio::post(impl_->ioc, [i = impl_.get()] { i->shutdown(); });
    impl_->thread.join();
}

void client::start() {
    impl_->post([i = impl_.get()](clock::time_point now) { i->core.start(now); });
}

void client::stop() {
    impl_->post([i = impl_.get()](clock::time_point now) { i->core.stop(now); });
}

std::string client::send_message(const std::string& conversation_id, const std::string& body) {
    auto id = impl_->next_msg_id();
    impl_->post([i = impl_.get(), id, conversation_id = conversation_id,
                 body = body](clock::time_point now) mutable {
        i->core.send_message(std::move(id), std::move(conversation_id), std::move(body), now);
    });
    return id;
}

std::string client::start_inquiry(const std::string& specialist_id, const std::string& body,
                                  bool free_consultation) {
    inquiry_details details;
    details.free_consultation = free_consultation;
    return start_inquiry(specialist_id, body, std::move(details));
}

std::string client::start_inquiry(const std::string& specialist_id, const std::string& body,
                                  inquiry_details details) {
    auto id = impl_->next_msg_id();
    impl_->post([i = impl_.get(), id, specialist_id = specialist_id, body = body,
                 details = std::move(details)](clock::time_point now) mutable {
        i->core.start_inquiry(std::move(id), std::move(specialist_id), std::move(body),
                              std::move(details), now);
    });
    return id;
}

void client::list_specialists(specialist_filter filter, reply_handler<specialist_page> done) {
    impl_->post([i = impl_.get(), filter = std::move(filter),
                 done = std::move(done)](clock::time_point now) mutable {
        i->core.list_specialists(std::move(filter), std::move(done), now);
    });
}

void client::get_specialist(const std::string& specialist_id, reply_handler<specialist> done) {
    impl_->post([i = impl_.get(), specialist_id = specialist_id,
                 done = std::move(done)](clock::time_point now) mutable {
        i->core.get_specialist(std::move(specialist_id), std::move(done), now);
    });
}

void client::list_conversations(std::uint32_t limit,
                                reply_handler<std::vector<conversation>> done) {
    impl_->post([i = impl_.get(), limit, done = std::move(done)](clock::time_point now) mutable {
        i->core.list_conversations(limit, std::move(done), now);
    });
}

void client::history(const std::string& conversation_id, std::uint64_t before_seq,
                     std::uint32_t limit, reply_handler<history_page> done) {
    impl_->post([i = impl_.get(), conversation_id = conversation_id, before_seq, limit,
                 done = std::move(done)](clock::time_point now) mutable {
        i->core.history(std::move(conversation_id), before_seq, limit, std::move(done), now);
    });
}

void client::mark_read(const std::string& conversation_id, std::uint64_t up_to_seq,
                       done_handler done) {
    impl_->post([i = impl_.get(), conversation_id = conversation_id, up_to_seq,
                 done = std::move(done)](clock::time_point now) mutable {
        i->core.mark_read(std::move(conversation_id), up_to_seq, std::move(done), now);
    });
}

void client::set_typing(const std::string& conversation_id, bool active, done_handler done) {
    impl_->post([i = impl_.get(), conversation_id = conversation_id, active,
                 done = std::move(done)](clock::time_point now) mutable {
        i->core.set_typing(std::move(conversation_id), active, std::move(done), now);
    });
}

void client::set_presence(presence_state state, done_handler done) {
    impl_->post([i = impl_.get(), state, done = std::move(done)](clock::time_point now) mutable {
        i->core.set_presence(state, std::move(done), now);
    });
}

void client::accept(const std::string& conversation_id, reply_handler<conversation> done) {
    impl_->post([i = impl_.get(), conversation_id = conversation_id,
                 done = std::move(done)](clock::time_point now) mutable {
        i->core.update_conversation(std::move(conversation_id), 1, std::move(done), now);
    });
}

void client::decline(const std::string& conversation_id, reply_handler<conversation> done) {
    impl_->post([i = impl_.get(), conversation_id = conversation_id,
                 done = std::move(done)](clock::time_point now) mutable {
        i->core.update_conversation(std::move(conversation_id), 2, std::move(done), now);
    });
}

void client::decline(const std::string& conversation_id, decline_reason reason,
                     reply_handler<conversation> done) {
    impl_->post([i = impl_.get(), conversation_id = conversation_id, reason,
                 done = std::move(done)](clock::time_point now) mutable {
        i->core.update_conversation(std::move(conversation_id), 2, std::move(done), now, reason);
    });
}

void client::close(const std::string& conversation_id, reply_handler<conversation> done) {
    impl_->post([i = impl_.get(), conversation_id = conversation_id,
                 done = std::move(done)](clock::time_point now) mutable {
        i->core.update_conversation(std::move(conversation_id), 3, std::move(done), now);
    });
}

void client::sign_out(done_handler done) {
    impl_->post([i = impl_.get(), done = std::move(done)](clock::time_point now) mutable {
        i->core.sign_out(std::move(done), now);
    });
}

}  // namespace confide::client

#include "runner.hpp"

#include <type_traits>
#include <variant>

namespace confide::client::detail {

runner::runner(const boost::asio::any_io_executor& executor, core& c,
               const ws::connect_options& target, runner_owner& owner,
               std::optional<boost::asio::ip::address> source)
    : executor_(executor),
      core_(c),
      target_(target),
      owner_(owner),
      source_(std::move(source)),
      wake_(executor) {}

runner::~runner() = default;

void runner::drain() {
    if (draining_) {
        return;
    }
    draining_ = true;
    for (;;) {
        core_.take_actions(batch_);
        if (batch_.empty()) {
            owner_.on_drained();
            core_.take_actions(batch_);
            if (batch_.empty()) {
                break;
            }
        }
        for (auto& a : batch_) {
            execute(a);
        }
    }
    draining_ = false;
    rearm();
}

void runner::execute(action& a) {
    std::visit(
        [this](auto& x) {
            using type = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<type, open_connection>) {
                connections_.emplace_back(
                    x.id, ws::connection::open(executor_, target_, *this, x.id, source_));
            } else if constexpr (std::is_same_v<type, send_frame>) {
                if (auto* c = find(x.id)) {
                    c->send(std::move(x.bytes));
                }
            } else if constexpr (std::is_same_v<type, close_connection>) {
                if (auto* c = find(x.id)) {
                    c->close(x.code, x.graceful);
                }
            } else if constexpr (std::is_same_v<type, notify>) {
                owner_.on_notify(x.what);
            } else {
                owner_.on_callback(x.fn);
            }
        },
        a);
}

ws::connection* runner::find(conn_id id) const {
    for (const auto& [cid, c] : connections_) {
        if (cid == id) {
            return c.get();
        }
    }
    return nullptr;
}

void runner::rearm() {
    if (shut_down_) {
        return;
    }
    const auto at = core_.next_wakeup();
    if (!at) {
        // Nothing to wait for: no pending wait either, so that the io_context can run dry.
        if (armed_) {
            armed_.reset();
            wake_.cancel();
        }
        return;
    }
    // A wake-up that moved later is left to fire early (on_tick is harmless then): re-arming
    // costs a cancelled wait, and deadlines move later with almost every frame.
    if (armed_ && *armed_ <= *at) {
        return;
    }
    armed_ = at;
    wake_.expires_at(*at);
    wake_.async_wait([this](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        armed_.reset();
        core_.on_tick(clock::now());
        drain();
    });
}

void runner::shut_down() {
    shut_down_ = true;
    armed_.reset();
    wake_.cancel();
    // close() reports nothing synchronously: iterating is safe.
    for (auto& [id, c] : connections_) {
        c->close(1000, true);
    }
}

void runner::on_open(std::uint64_t id) {
    core_.on_open(id, clock::now());
    drain();
}

void runner::on_message(std::uint64_t id, std::string_view bytes, bool binary) {
    // The protocol is binary; text messages are not frames.
    if (!binary) {
        return;
    }
    core_.on_frame(id, bytes, clock::now());
    drain();
}

void runner::on_close(std::uint64_t id, const ws::close_info& info) {
    std::erase_if(connections_, [id](const auto& c) { return c.first == id; });
    core_.on_close(id, close_info{info.code, info.reason, info.certificate_refused}, clock::now());
    owner_.on_connection_closed(info);
    drain();
}

}  // namespace confide::client::detail

#include "store/redis/pubsub_link.hpp"

#include "common/log.hpp"
#include "store/redis/reconnecting_context.hpp"

#include <hiredis/hiredis.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>

#include <exception>
#include <utility>

namespace confide::store::redis::detail {
namespace {

using steady = std::chrono::steady_clock;
using boost::system::error_code;

std::string_view view(const redisReply& r) noexcept {
    return {r.str, static_cast<std::size_t>(r.len)};
}

bool is_string(const redisReply& r) noexcept {
    return r.type == REDIS_REPLY_STRING || r.type == REDIS_REPLY_STATUS;
}

}  // namespace

void pubsub_link::reader_deleter::operator()(redisReader* r) const noexcept {
    redisReaderFree(r);
}

pubsub_link::pubsub_link(executor strand, config cfg, pubsub_link_events& events,
                         std::weak_ptr<void> owner)
    : strand_(std::move(strand)),
      cfg_(std::move(cfg)),
      name_(cfg_.host + ":" + std::to_string(cfg_.port)),
      events_(events),
      owner_(std::move(owner)),
      socket_(strand_),
      resolver_(strand_),
      connect_timer_(strand_),
      timer_(strand_),
      rng_(std::random_device{}()) {}

pubsub_link::~pubsub_link() = default;

// Runs `f` only while the owner is alive (holding it), and this link too.
template <class F>
auto pubsub_link::guarded(F f) {
    return [self = shared_from_this(), f = std::move(f)](auto&&... args) mutable {
        if (auto keep = self->owner_.lock()) {
            f(std::forward<decltype(args)>(args)...);
        }
    };
}

void pubsub_link::start() {
    if (state_ == state::idle) {
        connect();
    }
}

void pubsub_link::stop() {
    if (state_ == state::stopped) {
        return;
    }
    close();
    state_ = state::stopped;
    connect_timer_.cancel();
}

bool pubsub_link::subscribe(std::string_view channel) {
    if (state_ != state::ready) {
        return false;
    }
    send(command::subscribe, "SSUBSCRIBE", channel);
    return true;
}

bool pubsub_link::unsubscribe(std::string_view channel) {
    if (state_ != state::ready) {
        return false;
    }
    send(command::unsubscribe, "SUNSUBSCRIBE", channel);
    return true;
}

void pubsub_link::connect() {
    state_ = state::connecting;
    const auto epoch = ++epoch_;
    connect_timer_.expires_after(cfg_.connect_timeout);
    connect_timer_.async_wait(guarded([this, epoch](const error_code& ec) {
        if (!ec && epoch == epoch_ && (state_ == state::connecting || state_ == state::handshake)) {
            fail(errc::not_connected, "connect timed out");
        }
    }));
    auto on_connect = [this, epoch](const error_code& ec) {
        if (epoch != epoch_) {
            return;
        }
        if (ec) {
            fail(errc::not_connected, "cannot connect: " + ec.message());
            return;
        }
        on_connected(epoch);
    };
    error_code ec;
    const auto address = asio::ip::make_address(cfg_.host, ec);
    if (!ec) {
        socket_.async_connect({address, cfg_.port}, guarded(on_connect));
        return;
    }
    // As reconnecting_context: one resolved address per attempt, the next after a failure.
    resolver_.async_resolve(
        cfg_.host, std::to_string(cfg_.port),
        guarded([this, epoch, on_connect](const error_code& rec,
                                          const asio::ip::tcp::resolver::results_type& results) {
            if (epoch != epoch_) {
                return;
            }
            if (rec || results.empty()) {
                fail(errc::not_connected, "cannot resolve the host");
                return;
            }
            auto it = results.begin();
            std::advance(it, static_cast<std::ptrdiff_t>(next_address_++ % results.size()));
            socket_.async_connect(it->endpoint(), guarded(on_connect));
        }));
}

void pubsub_link::on_connected(std::uint64_t epoch) {
    error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    socket_.set_option(asio::socket_base::keep_alive(true), ignored);
    reader_.reset(redisReaderCreate());
    if (!reader_) {
        fail(errc::not_connected, "cannot allocate a reply reader");
        return;
    }
    state_ = state::handshake;
    // PING last: it fails with LOADING while Redis loads its data set.
    if (!cfg_.password.empty()) {
        send(command::handshake, "AUTH", cfg_.password);
    }
    send(command::handshake, "PING", {});
    if (epoch == epoch_) {
        read();
    }
}

void pubsub_link::read() {
    socket_.async_read_some(
        asio::buffer(input_), guarded([this, epoch = epoch_](const error_code& ec, std::size_t n) {
            if (epoch != epoch_) {
                return;
            }
            if (ec) {
                fail(errc::disconnected,
                     ec == asio::error::eof ? "connection closed" : ec.message());
                return;
            }
            on_read(n);
            if (epoch == epoch_) {
                read();
            }
        }));
}

void pubsub_link::on_read(std::size_t n) {
    const auto epoch = epoch_;
    if (redisReaderFeed(reader_.get(), input_.data(), n) != REDIS_OK) {
        fail(errc::protocol_error, "cannot buffer a reply");
        return;
    }
    for (;;) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
            fail(errc::protocol_error, "malformed reply");
            return;
        }
        if (raw == nullptr) {
            return;  // the rest of the reply is still on its way
        }
        std::unique_ptr<redisReply, void (*)(void*)> r(static_cast<redisReply*>(raw),
                                                       &freeReplyObject);
        bool ok = false;
        try {
            ok = handle(*r);
        } catch (const std::exception& e) {
            log::error("redis sharded subscriber: handling a reply failed: {}", e.what());
            ok = true;
        }
        if (epoch != epoch_) {
            return;  // an event handler stopped the link, or the link failed
        }
        if (!ok) {
            fail(errc::protocol_error, "unexpected reply");
            return;
        }
    }
}

// One reply: a push (`smessage`, or `sunsubscribe` when Redis drops a channel whose slot moved)
// or the answer to the oldest pending command. False when it fits neither.
bool pubsub_link::handle(const redisReply& r) {
    if (r.type == REDIS_REPLY_ARRAY && r.elements >= 2 && is_string(*r.element[0]) &&
        is_string(*r.element[1])) {
        const auto kind = view(*r.element[0]);
        const auto channel = view(*r.element[1]);
        if (kind == "smessage" && r.elements == 3 && is_string(*r.element[2])) {
            if (state_ == state::ready) {
                events_.on_message(channel, view(*r.element[2]));
            }
            return true;
        }
        if (kind == "sunsubscribe") {
            const bool asked = !pending_.empty() && pending_.front().kind == command::unsubscribe &&
                               pending_.front().channel == channel;
            if (asked) {
                pending_.pop_front();
            }
            events_.on_unsubscribed(*this, channel, asked);
            return true;
        }
        if (pending_.empty()) {
            return false;
        }
        const auto expected = pending_.front().kind;
        if (kind == "ssubscribe" && expected == command::subscribe &&
            pending_.front().channel == channel) {
            pending_.pop_front();
            events_.on_subscribed(*this, channel);
            return true;
        }
        if (kind == "pong" && expected == command::ping) {  // PING while subscribed
            pending_.pop_front();
            return true;
        }
        return false;
    }
    if (pending_.empty()) {
        return false;
    }
    auto head = std::move(pending_.front());
    pending_.pop_front();
    if (r.type == REDIS_REPLY_ERROR) {
        switch (head.kind) {
            case command::subscribe:
                events_.on_refused(*this, head.channel, view(r));
                return true;
            case command::unsubscribe:  // e.g. MOVED: not subscribed here either way
                events_.on_unsubscribed(*this, head.channel, true);
                return true;
            default:
                // Redis's message never contains the password.
                fail(state_ == state::ready ? errc::disconnected : errc::not_connected,
                     "refused: " + std::string(view(r)));
                return true;
        }
    }
    if (r.type != REDIS_REPLY_STATUS ||
        (head.kind != command::handshake && head.kind != command::ping)) {
        return false;
    }
    if (head.kind == command::handshake && state_ == state::handshake &&
        (pending_.empty() || pending_.front().kind != command::handshake)) {
        state_ = state::ready;
        connect_timer_.cancel();
        if (attempt_ > 0) {
            log::info("redis sharded subscriber ({}): connected again", name_);
        }
        attempt_ = 0;
        events_.on_link_ready(*this);
    }
    return true;
}

void pubsub_link::send(command kind, std::string_view name, std::string_view channel) {
    if (channel.empty() && kind != command::subscribe && kind != command::unsubscribe) {
        const std::array<std::string_view, 1> args{name};
        append_resp_command(output_, args);
    } else {
        const std::array<std::string_view, 2> args{name, channel};
        append_resp_command(output_, args);
    }
    last_sent_ = steady::now();
    // The password is an argument, never kept in the FIFO.
    pending_.push_back({kind, kind == command::handshake ? std::string() : std::string(channel),
                        last_sent_ + cfg_.command_timeout});
    flush();
    arm_timer();
}

// One write in flight at a time; what is sent meanwhile waits in output_ and leaves with the
// next write, in one go.
void pubsub_link::flush() {
    if (writing_now_ || output_.empty()) {
        return;
    }
    writing_now_ = true;
    writing_.clear();
    std::swap(writing_, output_);
    asio::async_write(socket_, asio::buffer(writing_),
                      guarded([this, epoch = epoch_](const error_code& ec, std::size_t) {
                          if (epoch != epoch_) {
                              return;
                          }
                          writing_now_ = false;
                          if (ec) {
                              fail(errc::disconnected, "write failed: " + ec.message());
                              return;
                          }
                          flush();
                      }));
}

// One timer: the deadline of the oldest pending command (replies come in order), or when idle
// the time of the next health check. Re-armed only when a new time is earlier.
void pubsub_link::arm_timer() {
    if (state_ != state::handshake && state_ != state::ready) {
        return;
    }
    steady::time_point at;
    if (!pending_.empty()) {
        at = pending_.front().deadline;
    } else if (cfg_.health_interval.count() > 0) {
        at = last_sent_ + cfg_.health_interval;
    } else {
        return;
    }
    if (timer_armed_ && timer_at_ <= at) {
        return;
    }
    timer_armed_ = true;
    timer_at_ = at;
    timer_.expires_at(at);
    timer_.async_wait(guarded([this, epoch = epoch_, at](const error_code& ec) {
        if (ec || epoch != epoch_ || timer_at_ != at) {
            return;
        }
        timer_armed_ = false;
        on_timer();
    }));
}

void pubsub_link::on_timer() {
    const auto now = steady::now();
    if (!pending_.empty()) {
        if (pending_.front().deadline <= now) {
            fail(errc::timeout, "no reply within " + std::to_string(cfg_.command_timeout.count()) +
                                    " ms, reconnecting");
            return;
        }
    } else if (state_ == state::ready && cfg_.health_interval.count() > 0 &&
               last_sent_ + cfg_.health_interval <= now) {
        send(command::ping, "PING", {});
        return;
    }
    arm_timer();
}

void pubsub_link::fail(errc why, std::string_view what) {
    if (state_ != state::connecting && state_ != state::handshake && state_ != state::ready) {
        return;
    }
    const bool was_ready = state_ == state::ready;
    if (was_ready || attempt_ == 0) {
        log::warn("redis sharded subscriber ({}): {}", name_, what);
    } else {
        log::debug("redis sharded subscriber ({}): {}", name_, what);
    }
    close();
    state_ = state::backoff;
    const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    const auto delay = backoff_delay(cfg_.reconnect_min, cfg_.reconnect_max, attempt_, unit);
    if (attempt_ < 64) {
        ++attempt_;
    }
    connect_timer_.expires_after(delay);
    connect_timer_.async_wait(guarded([this, epoch = epoch_](const error_code& ec) {
        if (!ec && epoch == epoch_ && state_ == state::backoff) {
            connect();
        }
    }));
    events_.on_link_down(*this, was_ready || why == errc::timeout ? why : errc::not_connected);
}

void pubsub_link::close() {
    ++epoch_;
    error_code ignored;
    resolver_.cancel();
    socket_.close(ignored);
    timer_.cancel();
    timer_armed_ = false;
    reader_.reset();
    pending_.clear();
    output_.clear();
    writing_now_ = false;
}

}  // namespace confide::store::redis::detail

#include "store/redis/reconnecting_context.hpp"

#include "common/check.hpp"
#include "common/log.hpp"
#include "store/redis/asio_adapter.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <exception>

namespace confide::store::redis::detail {
namespace {

template <class F>
void noexcept_call(const char* what, F&& f) noexcept {
    try {
        f();
    } catch (const std::exception& e) {
        log::error("redis: {} failed: {}", what, e.what());
    } catch (...) {
        log::error("redis: {} failed", what);
    }
}

}  // namespace

reply copy_reply(const redisReply& r) {
    reply out;
    switch (r.type) {
        case REDIS_REPLY_STRING:
            out.type = reply::kind::string;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = reply::kind::status;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = reply::kind::error;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = reply::kind::integer;
            out.integer = r.integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = reply::kind::array;
            out.elements.reserve(r.elements);
            for (std::size_t i = 0; i < r.elements; ++i) {
                out.elements.push_back(copy_reply(*r.element[i]));
            }
            break;
        default:  // REDIS_REPLY_NIL
            break;
    }
    return out;
}

std::chrono::milliseconds backoff_delay(std::chrono::milliseconds min,
                                        std::chrono::milliseconds max, unsigned attempt,
                                        double unit) noexcept {
    min = std::max(min, std::chrono::milliseconds(1));
    max = std::max(max, min);
    auto delay = min;
    for (unsigned i = 0; i < attempt && delay < max; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, max);
    unit = std::clamp(unit, 0.0, 1.0);
    const auto half = delay.count() / 2;
    return std::chrono::milliseconds(half + static_cast<std::chrono::milliseconds::rep>(
                                                static_cast<double>(delay.count() - half) * unit));
}

reconnecting_context::reconnecting_context(executor strand, config cfg, std::string_view role)
    : strand_(std::move(strand)),
      cfg_(std::move(cfg)),
      role_(role),
      timer_(strand_),
      resolver_(strand_),
      rng_(std::random_device{}()) {}

reconnecting_context::~reconnecting_context() {
    CONFIDE_CHECK(ac_ == nullptr);
}

void reconnecting_context::start() {
    if (state_ == state::idle) {
        connect();
    }
}

void reconnecting_context::stop() {
    if (state_ == state::stopped) {
        return;
    }
    state_ = state::stopped;
    ++epoch_;
    ready_.store(false, std::memory_order_release);
    timer_.cancel();
    resolver_.cancel();
    if (auto* ac = std::exchange(ac_, nullptr)) {
        closing_reason_ = errc::stopped;
        redisAsyncFree(ac);
    }
    on_down(errc::stopped);
}

void reconnecting_context::fail(errc why, std::string_view what) {
    if (state_ != state::connecting && state_ != state::ready) {
        return;
    }
    if (state_ == state::ready || attempt_ == 0) {
        log::warn("redis {} ({}): {}", role_, endpoint(), what);
    } else {
        log::debug("redis {} ({}): {}", role_, endpoint(), what);
    }
    if (auto* ac = std::exchange(ac_, nullptr)) {
        closing_reason_ = why;
        redisAsyncFree(ac);
    }
    go_down(why == errc::timeout || state_ == state::ready ? why : errc::not_connected);
}

void reconnecting_context::connect() {
    state_ = state::connecting;
    const auto epoch = ++epoch_;
    timer_.expires_after(cfg_.connect_timeout);
    timer_.async_wait(guarded([this, epoch](const boost::system::error_code& ec) {
        if (!ec && epoch == epoch_ && state_ == state::connecting) {
            resolver_.cancel();
            fail(errc::not_connected, "connect timed out");
        }
    }));
    if (!cfg_.unix_socket.empty()) {
        open(redisAsyncConnectUnix(cfg_.unix_socket.c_str()));
        return;
    }
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(cfg_.host, ec);
    if (!ec) {
        open(redisAsyncConnect(address.to_string().c_str(), cfg_.port));
        return;
    }
    // hiredis would resolve a name with a blocking getaddrinfo() on the strand: resolve here.
    resolver_.async_resolve(
        cfg_.host, std::to_string(cfg_.port),
        guarded([this, epoch](const boost::system::error_code& rec,
                              const asio::ip::tcp::resolver::results_type& results) {
            if (epoch != epoch_ || state_ != state::connecting) {
                return;
            }
            if (rec || results.empty()) {
                fail(errc::not_connected, "cannot resolve the host: " +
                                              (rec ? rec.message() : std::string("no address")));
                return;
            }
            // One address per attempt, the next one after a failure: "localhost" may resolve to
            // ::1 first while Redis listens on 127.0.0.1 only.
            address_index_ = next_address_++ % results.size();
            auto it = results.begin();
            std::advance(it, static_cast<std::ptrdiff_t>(address_index_));
            const auto ip = it->endpoint().address().to_string();
            open(redisAsyncConnect(ip.c_str(), cfg_.port));
        }));
}

void reconnecting_context::open(redisAsyncContext* ac) {
    if (ac == nullptr) {
        fail(errc::not_connected, "cannot allocate a hiredis context");
        return;
    }
    if (ac->err != 0) {
        const std::string why = std::string("cannot connect: ") + ac->errstr;
        redisAsyncFree(ac);
        fail(errc::not_connected, why);
        return;
    }
    ac->data = this;
    if (!attach_asio(ac, strand_, owner_, &reconnecting_context::on_cleanup_hook)) {
        redisAsyncFree(ac);
        fail(errc::not_connected, "cannot attach the connection to the event loop");
        return;
    }
    ac_ = ac;
    closing_reason_ = errc::disconnected;
    if (cfg_.unix_socket.empty()) {
        redisEnableKeepAlive(&ac->c);  // a dead peer is noticed even while idle
    }
    // Only now, with the hooks attached: it asks for the first write event.
    redisAsyncSetConnectCallback(ac, &reconnecting_context::on_connect_hook);
    // Queued at once (hiredis writes them when the socket connects). PING last: it fails with
    // LOADING while Redis loads its data set, and such a connection is not ready.
    handshake_pending_ = 0;
    bool sent = true;
    if (!cfg_.password.empty()) {
        const std::array<std::string_view, 2> auth{"AUTH", cfg_.password};
        sent = send(&reconnecting_context::on_handshake_hook, this, auth);
        ++handshake_pending_;
    }
    const std::array<std::string_view, 1> ping{"PING"};
    sent = sent && send(&reconnecting_context::on_handshake_hook, this, ping);
    ++handshake_pending_;
    if (!sent) {
        fail(errc::not_connected, "cannot queue the handshake");
    }
}

void reconnecting_context::on_connect_hook(const redisAsyncContext* ac, int status) noexcept {
    // The result shows in the handshake replies, or in cleanup when connecting failed.
    if (status != REDIS_OK) {
        noexcept_call("connect callback", [&] {
            auto* self = static_cast<reconnecting_context*>(ac->data);
            if (self != nullptr && ac == self->ac_) {
                log::debug("redis {} ({}): connect failed: {}", self->role_, self->endpoint(),
                           ac->errstr != nullptr ? ac->errstr : "?");
            }
        });
    }
}

void reconnecting_context::on_handshake_hook(redisAsyncContext* ac, void* reply,
                                             void* privdata) noexcept {
    noexcept_call("handshake callback", [&] {
        static_cast<reconnecting_context*>(privdata)->on_handshake(
            ac, static_cast<const redisReply*>(reply));
    });
}

void reconnecting_context::on_handshake(redisAsyncContext* ac, const redisReply* r) {
    if (ac != ac_ || r == nullptr || state_ != state::connecting) {
        return;  // a NULL reply: the context is being freed, cleanup follows
    }
    if (r->type == REDIS_REPLY_ERROR) {
        // Redis's message never contains the password.
        fail(errc::not_connected,
             "handshake refused: " + std::string(r->str, static_cast<std::size_t>(r->len)));
        return;
    }
    if (--handshake_pending_ == 0) {
        // Out of hiredis: on_ready() runs user code and issues commands.
        asio::post(strand_, guarded([this, epoch = epoch_] { become_ready(epoch); }));
    }
}

void reconnecting_context::become_ready(std::uint64_t epoch) {
    if (epoch != epoch_ || state_ != state::connecting || ac_ == nullptr) {
        return;
    }
    state_ = state::ready;
    timer_.cancel();
    if (attempt_ > 0) {
        log::info("redis {} ({}): connected again", role_, endpoint());
    } else {
        log::debug("redis {} ({}): connected", role_, endpoint());
    }
    attempt_ = 0;
    next_address_ = address_index_;  // the address that works is tried first next time
    ready_.store(true, std::memory_order_release);
    last_deadline_start_ = std::chrono::steady_clock::now();  // the handshake just succeeded
    on_ready();
    if (state_ == state::ready && cfg_.health_interval.count() > 0) {
        watch_idle(last_deadline_start_ + cfg_.health_interval);
    }
}

// One timer wake-up per interval at most, however many commands are sent: the timer is not
// re-armed per command, it looks at the time of the last one when it fires.
void reconnecting_context::watch_idle(std::chrono::steady_clock::time_point at) {
    const auto epoch = epoch_;
    timer_.expires_at(at);
    timer_.async_wait(guarded([this, epoch](const boost::system::error_code& ec) {
        if (ec || epoch != epoch_ || state_ != state::ready) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        auto next = last_deadline_start_ + cfg_.health_interval;
        if (next <= now) {
            on_idle();
            if (epoch != epoch_ || state_ != state::ready) {
                return;  // on_idle() could not send its check and failed the connection
            }
            next = now + cfg_.health_interval;
        }
        watch_idle(next);
    }));
}

void reconnecting_context::on_cleanup_hook(redisAsyncContext* ac) noexcept {
    noexcept_call("cleanup", [&] {
        if (auto* self = static_cast<reconnecting_context*>(ac->data)) {
            self->on_cleanup(ac);
        }
    });
}

void reconnecting_context::on_cleanup(redisAsyncContext* ac) {
    if (ac != ac_) {
        return;  // freed by us (fail() or stop()), which already went down
    }
    // hiredis gave up the context: a failed connect, a read or write error, or end of stream.
    ac_ = nullptr;
    const bool was_ready = state_ == state::ready;
    const char* why = ac->c.err != 0 ? ac->c.errstr : "connection closed";
    if (was_ready || attempt_ == 0) {
        log::warn("redis {} ({}): {}", role_, endpoint(), why);
    } else {
        log::debug("redis {} ({}): {}", role_, endpoint(), why);
    }
    go_down(was_ready ? errc::disconnected : errc::not_connected);
}

void reconnecting_context::go_down(errc why) {
    ready_.store(false, std::memory_order_release);
    ++epoch_;
    on_down(why);
    if (state_ != state::stopped) {
        schedule_reconnect();
    }
}

void reconnecting_context::schedule_reconnect() {
    state_ = state::backoff;
    const auto epoch = ++epoch_;
    const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    const auto delay = backoff_delay(cfg_.reconnect_min, cfg_.reconnect_max, attempt_, unit);
    if (attempt_ < 64) {
        ++attempt_;
    }
    timer_.expires_after(delay);
    timer_.async_wait(guarded([this, epoch](const boost::system::error_code& ec) {
        if (!ec && epoch == epoch_ && state_ == state::backoff) {
            connect();
        }
    }));
}

std::string reconnecting_context::endpoint() const {
    if (!cfg_.unix_socket.empty()) {
        return cfg_.unix_socket;
    }
    return cfg_.host + ":" + std::to_string(cfg_.port);
}

}  // namespace confide::store::redis::detail

#pragma once
// Internal to store/redis: the life cycle shared by connection and subscriber.

#include "common/asio_types.hpp"
#include "store/redis/config.hpp"
#include "store/redis/errc.hpp"
#include "store/redis/reply.hpp"

#include <hiredis/async.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confide::store::redis::detail {

/// Copies a hiredis reply (recursively) out of hiredis's memory.
reply copy_reply(const redisReply& r);

/// The delay before reconnection attempt number `attempt` (0 for the first after a failure):
/// `min` doubling up to `max`, then a uniformly random value in [delay/2, delay] so that many
/// clients do not reconnect in lockstep. `unit` is a uniform random number in [0, 1].
std::chrono::milliseconds backoff_delay(std::chrono::milliseconds min,
                                        std::chrono::milliseconds max, unsigned attempt,
                                        double unit) noexcept;

/// One hiredis async context at a time, and its life cycle: resolve, connect, attach to Asio,
/// handshake (AUTH when a password is set, then PING), ready, then on any failure free the
/// context and reconnect after a backoff; stop() ends it all. Derived classes issue commands on
/// the ready context and learn about each connection through on_ready() and on_down(). While
/// ready, on_idle() asks them for a health check whenever no command with a deadline was sent
/// for config::health_interval.
///
/// Thread safety: none; every member runs on `strand`, except that the owner's destructor calls
/// stop() once no handler can run any more (handlers lock the owner, see guarded()).
class reconnecting_context {
public:
    reconnecting_context(executor strand, config cfg, std::string_view role);
    virtual ~reconnecting_context();

    reconnecting_context(const reconnecting_context&) = delete;
    reconnecting_context& operator=(const reconnecting_context&) = delete;

    /// The object that owns this context: handlers do nothing once it has expired. Set once,
    /// before start().
    void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

    /// Begins the first connection attempt (once; nothing after stop()).
    void start();

    /// Frees the context (its pending callbacks see errc::stopped) and never reconnects.
    void stop();

    /// Readable from any thread.
    bool is_ready() const noexcept { return ready_.load(std::memory_order_acquire); }

protected:
    enum class state { idle, connecting, ready, backoff, stopped };

    /// On the strand, not inside hiredis: the context is connected, authenticated and answers.
    virtual void on_ready() = 0;

    /// The connection attempt or the ready connection is over (`why` is errc::stopped,
    /// errc::timeout, errc::disconnected or errc::not_connected). May run inside hiredis. The
    /// context is gone or going: context() is already null.
    virtual void on_down(errc why) = 0;

    /// On the strand, not inside hiredis, while ready: no command was sent with a deadline (see
    /// deadline_from_now()) for config::health_interval. Unless a command is still waiting for
    /// its reply (its deadline watches the connection already), the derived class sends one that
    /// Redis answers at once, with a deadline: a hung Redis then fails the connection.
    virtual void on_idle() = 0;

    /// The deadline of a command sent now (now + config::command_timeout); the connection counts
    /// as busy until config::health_interval after this call.
    std::chrono::steady_clock::time_point deadline_from_now() noexcept {
        last_deadline_start_ = std::chrono::steady_clock::now();
        return last_deadline_start_ + cfg_.command_timeout;
    }

    /// Gives up the current connection (it timed out, or misbehaved): frees the context, whose
    /// pending callbacks then get a NULL reply (see closing_reason_), and reconnects after a
    /// backoff. May be called inside a hiredis callback (hiredis then frees the context when the
    /// callback returns).
    void fail(errc why, std::string_view what);

    /// Sends one command on the ready context; false when hiredis refused it.
    template <class Args>
    bool send(redisCallbackFn* fn, void* privdata, const Args& args);

    redisAsyncContext* context() const noexcept { return ac_; }
    state current_state() const noexcept { return state_; }
    const config& cfg() const noexcept { return cfg_; }
    const executor& strand() const noexcept { return strand_; }
    std::string_view role() const noexcept { return role_; }

    /// Why the last context was freed: errc::disconnected (hiredis saw the connection drop),
    /// errc::timeout, errc::stopped. Derived classes may consume it (reset it to disconnected).
    errc closing_reason_ = errc::disconnected;

    /// Wraps a handler so that it runs only while the owner is alive (and keeps it alive while
    /// it runs): a handler that outlives the owner does nothing.
    template <class F>
    auto guarded(F f) const {
        return [owner = owner_, f = std::move(f)](auto&&... args) mutable {
            if (auto keep = owner.lock()) {
                f(std::forward<decltype(args)>(args)...);
            }
        };
    }

private:
    static void on_connect_hook(const redisAsyncContext* ac, int status) noexcept;
    static void on_handshake_hook(redisAsyncContext* ac, void* reply, void* privdata) noexcept;
    static void on_cleanup_hook(redisAsyncContext* ac) noexcept;

    void connect();
    void open(redisAsyncContext* ac);
    void on_handshake(redisAsyncContext* ac, const redisReply* r);
    void become_ready(std::uint64_t epoch);
    void watch_idle(std::chrono::steady_clock::time_point at);
    void on_cleanup(redisAsyncContext* ac);
    void go_down(errc why);
    void schedule_reconnect();
    std::string endpoint() const;

    executor strand_;
    config cfg_;
    std::string role_;
    std::weak_ptr<void> owner_;
    asio::steady_timer timer_;  ///< connect deadline, then the idle check, then backoff
    asio::ip::tcp::resolver resolver_;
    std::minstd_rand rng_;
    redisAsyncContext* ac_ = nullptr;
    state state_ = state::idle;
    std::uint64_t epoch_ = 0;        ///< bumped by every state change that stale handlers must see
    unsigned attempt_ = 0;           ///< failed attempts since the last ready connection
    std::size_t next_address_ = 0;   ///< of the resolved addresses, the one to try next
    std::size_t address_index_ = 0;  ///< of the resolved addresses, the one being tried
    int handshake_pending_ = 0;
    std::chrono::steady_clock::time_point last_deadline_start_;
    std::atomic<bool> ready_{false};
};

template <class Args>
bool reconnecting_context::send(redisCallbackFn* fn, void* privdata, const Args& args) {
    if (ac_ == nullptr) {
        return false;
    }
    // Most commands have a handful of arguments: no allocation for their pointers.
    constexpr std::size_t inline_count = 16;
    const std::size_t n = std::size(args);
    std::array<const char*, inline_count> small_argv;
    std::array<std::size_t, inline_count> small_lens;
    std::vector<const char*> big_argv;
    std::vector<std::size_t> big_lens;
    const char** argv = small_argv.data();
    std::size_t* lens = small_lens.data();
    if (n > inline_count) {
        big_argv.resize(n);
        big_lens.resize(n);
        argv = big_argv.data();
        lens = big_lens.data();
    }
    std::size_t i = 0;
    for (const auto& a : args) {
        argv[i] = std::data(a);
        lens[i] = std::size(a);
        ++i;
    }
    return redisAsyncCommandArgv(ac_, fn, privdata, static_cast<int>(n), argv, lens) == REDIS_OK;
}

}  // namespace confide::store::redis::detail

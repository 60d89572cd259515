#pragma once
// Internal to store/redis: one RESP2 connection for sharded pub/sub (SSUBSCRIBE), on an Asio
// socket, its replies parsed by hiredis's redisReader.
//
// Why not hiredis's async API: hiredis 0.14 routes replies by command name and knows only
// SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE and MONITOR. An SSUBSCRIBE is queued as an ordinary command
// whose callback the confirmation consumes; the first `smessage` push then finds no callback on
// a context that is not in subscribed mode, and hiredis aborts (assertion in
// redisProcessCallbacks, seen with Debian's libhiredis 0.14.1). With a SUBSCRIBE beside it to
// keep the context in subscribed mode, the SSUBSCRIBE's callback never sees its confirmation (it
// goes to the SUBSCRIBE's callback) and the pushes are dropped. Owning the socket, this link
// matches every reply itself: a FIFO of the commands it sent, pushes known by their first
// element.

#include "common/asio_types.hpp"
#include "store/redis/config.hpp"
#include "store/redis/errc.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;
struct redisReply;

namespace confide::store::redis::detail {

/// Appends `args` to `out` as one RESP command (an array of bulk strings).
/// Thread safety: pure.
template <class Args>
void append_resp_command(std::string& out, const Args& args) {
    out += '*';
    out += std::to_string(std::size(args));
    out += "\r\n";
    for (const auto& a : args) {
        const std::string_view arg(std::data(a), std::size(a));
        out += '$';
        out += std::to_string(arg.size());
        out += "\r\n";
        out += arg;
        out += "\r\n";
    }
}

class pubsub_link;

/// What a pubsub_link reports to its owner, on the link's strand. Every call may send commands
/// on the link or stop it.
class pubsub_link_events {
public:
    /// Connected, authenticated and answering PING: subscribe now.
    virtual void on_link_ready(pubsub_link& link) = 0;
    /// The connection (or the attempt) is over: every subscription on it is gone. `why` is
    /// errc::disconnected (it was ready), errc::not_connected (it never was) or errc::timeout.
    /// The link reconnects after a backoff.
    virtual void on_link_down(pubsub_link& link, errc why) = 0;
    /// Redis confirmed an SSUBSCRIBE.
    virtual void on_subscribed(pubsub_link& link, std::string_view channel) = 0;
    /// `channel` is not subscribed on this link any more: `asked` when it answers our
    /// SUNSUBSCRIBE, otherwise Redis dropped it (its slot moved to another node).
    virtual void on_unsubscribed(pubsub_link& link, std::string_view channel, bool asked) = 0;
    /// Redis refused an SSUBSCRIBE with an error reply (e.g. MOVED).
    virtual void on_refused(pubsub_link& link, std::string_view channel,
                            std::string_view error) = 0;
    /// A message (`smessage`). The views are valid during the call only.
    virtual void on_message(std::string_view channel, std::string_view payload) = 0;

protected:
    ~pubsub_link_events() = default;
};

/// A sharded pub/sub connection to one node: connect (with a deadline), AUTH, PING, then
/// SSUBSCRIBE/SUNSUBSCRIBE on request; every command has a deadline (config::command_timeout)
/// and a PING checks an idle connection (config::health_interval); on any failure it reconnects
/// with jittered exponential backoff (as reconnecting_context does), until stop().
///
/// Thread safety: none; every member runs on `strand`. Handlers do nothing once `owner` has
/// expired (and hold it while they run), so `events` may be a part of the owner.
class pubsub_link : public std::enable_shared_from_this<pubsub_link> {
public:
    /// `cfg.host` and `cfg.port` name the node (unix_socket is not supported).
    pubsub_link(executor strand, config cfg, pubsub_link_events& events, std::weak_ptr<void> owner);
    ~pubsub_link();

    pubsub_link(const pubsub_link&) = delete;
    pubsub_link& operator=(const pubsub_link&) = delete;

    void start();
    /// Closes the connection; no event is reported afterwards.
    void stop();

    bool is_ready() const noexcept { return state_ == state::ready; }
    /// "host:port"
    const std::string& name() const noexcept { return name_; }
    const std::string& host() const noexcept { return cfg_.host; }

    /// Sends SSUBSCRIBE `channel`; false when not ready.
    bool subscribe(std::string_view channel);
    /// Sends SUNSUBSCRIBE `channel`; false when not ready.
    bool unsubscribe(std::string_view channel);

private:
    enum class state { idle, connecting, handshake, ready, backoff, stopped };
    enum class command { handshake, ping, subscribe, unsubscribe };
    struct pending {
        command kind;
        std::string channel;
        std::chrono::steady_clock::time_point deadline;
    };
    struct reader_deleter {
        void operator()(redisReader* r) const noexcept;
    };

    void connect();
    void on_connected(std::uint64_t epoch);
    void read();
    void on_read(std::size_t n);
    bool handle(const redisReply& r);
    void send(command kind, std::string_view name, std::string_view channel);
    void flush();
    void arm_timer();
    void on_timer();
    void fail(errc why, std::string_view what);
    void close();
    template <class F>
    auto guarded(F f);

    executor strand_;
    config cfg_;
    std::string name_;
    pubsub_link_events& events_;
    std::weak_ptr<void> owner_;
    asio::ip::tcp::socket socket_;
    asio::ip::tcp::resolver resolver_;
    asio::steady_timer connect_timer_;  ///< connect deadline, then backoff
    asio::steady_timer timer_;          ///< reply deadlines and the idle check
    std::unique_ptr<redisReader, reader_deleter> reader_;
    std::array<char, 16 * 1024> input_;
    std::string output_;   ///< commands waiting for the write in flight
    std::string writing_;  ///< the write in flight
    std::deque<pending> pending_;
    std::minstd_rand rng_;
    state state_ = state::idle;
    std::uint64_t epoch_ = 0;  ///< bumped whenever the connection ends: stale handlers see it
    unsigned attempt_ = 0;
    std::size_t next_address_ = 0;
    bool writing_now_ = false;
    bool timer_armed_ = false;
    std::chrono::steady_clock::time_point timer_at_;
    std::chrono::steady_clock::time_point last_sent_;
};

}  // namespace confide::store::redis::detail

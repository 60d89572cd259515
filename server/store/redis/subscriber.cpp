#include "store/redis/subscriber.hpp"

#include "common/log.hpp"
#include "common/random_id.hpp"
#include "store/redis/errc.hpp"
#include "store/redis/reconnecting_context.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <deque>
#include <exception>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace confide::store::redis {
namespace {

using steady = std::chrono::steady_clock;
using done_ptr = detail::completion_ptr<boost::system::error_code>;

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

std::string_view view(const redisReply& r) noexcept {
    return {r.str, static_cast<std::size_t>(r.len)};
}

}  // namespace

// How hiredis 0.14 handles pub/sub, and why this code looks the way it does:
// - SUBSCRIBE callbacks live in a dict keyed by channel: a second SUBSCRIBE of a channel
//   replaces the first one's callback and privdata, and the callback is called for the
//   "subscribe" confirmation, for every message and for the "unsubscribe" confirmation (after
//   which hiredis drops it, unless a SUBSCRIBE of that channel is still unconfirmed).
//   So privdata is always `this` (never a per-command object that could be replaced or leak) and
//   the channel is read from the reply.
// - A reply it cannot match may be handed to the previous callback: the callback checks shapes.
// - Old versions leave subscribed mode when a confirmation says zero channels remain, even with
//   a SUBSCRIBE still in flight, and then abort on its reply. A private sentinel channel stays
//   subscribed for the whole connection, so the count never drops to zero.
// - One SUBSCRIBE per channel: Redis confirms them in order, so a FIFO of deadlines pairs each
//   confirmation with the command it answers.
struct subscriber::impl final : detail::reconnecting_context {
    struct channel_state {
        bool subscribe_last = false;  ///< the last command sent for it was SUBSCRIBE
        /// Per unconfirmed SUBSCRIBE, in order. Rarely more than one: a vector, as a std::deque
        /// would allocate 576 bytes up front for every user's channel (docs/benchmarks.md).
        std::vector<std::vector<done_ptr>> awaiting;
    };
    struct confirmation {
        std::string channel;
        steady::time_point deadline;
    };

    impl(const executor& strand, config cfg, message_callback on_message, reset_callback on_reset)
        : reconnecting_context(strand, std::move(cfg), "subscriber"),
          on_message_(std::move(on_message)),
          on_reset_(std::move(on_reset)),
          sentinel_("confide:subscriber:" + random_hex_id(8)),
          deadline_timer_(strand) {}

    void subscribe(std::string channel, done_ptr done) {
        const auto s = current_state();
        if (s == state::stopped) {
            complete(std::move(done), errc::stopped);
            return;
        }
        wanted_.insert(channel);
        if (s == state::connecting) {
            parked_.emplace_back(std::move(channel), std::move(done));
        } else if (s == state::ready) {
            request(channel, std::move(done));
        } else {
            complete(std::move(done), errc::not_connected);
        }
    }

    void unsubscribe(const std::string& channel) {
        wanted_.erase(channel);
        if (current_state() != state::ready) {
            return;
        }
        auto it = channels_.find(channel);
        if (it == channels_.end() || !it->second.subscribe_last) {
            return;
        }
        const std::array<std::string_view, 2> args{"UNSUBSCRIBE", channel};
        if (send(&impl::on_push_hook, this, args)) {
            it->second.subscribe_last = false;
        }
    }

    // On the ready connection.
    void request(const std::string& channel, done_ptr done) {
        auto& st = channels_[channel];
        if (st.subscribe_last) {
            if (st.awaiting.empty()) {
                complete(std::move(done), {});  // confirmed already
            } else {
                st.awaiting.back().push_back(std::move(done));
            }
            return;
        }
        if (!send_subscribe(channel, st)) {
            complete(std::move(done), errc::not_connected);
            return;
        }
        st.awaiting.back().push_back(std::move(done));
    }

    bool send_subscribe(const std::string& channel, channel_state& st) {
        const std::array<std::string_view, 2> args{"SUBSCRIBE", channel};
        if (!send(&impl::on_push_hook, this, args)) {
            return false;
        }
        st.subscribe_last = true;
        st.awaiting.emplace_back();
        confirmations_.push_back({channel, deadline_from_now()});
        arm_deadline();
        return true;
    }

    void on_ready() override {
        reset_pending_ = had_connection_;
        had_connection_ = true;
        resubscribing_ = 0;
        bool ok = send_subscribe(sentinel_, channels_[sentinel_]);
        ++resubscribing_;
        for (const auto& channel : wanted_) {
            ok = ok && send_subscribe(channel, channels_[channel]);
            ++resubscribing_;
        }
        if (!ok) {
            fail(errc::disconnected, "cannot queue the subscriptions");
            return;
        }
        for (auto& [channel, done] : parked_) {
            auto it = channels_.find(channel);
            if (it != channels_.end() && !it->second.awaiting.empty()) {
                it->second.awaiting.back().push_back(std::move(done));
            } else {
                complete(std::move(done), errc::not_connected);  // unsubscribed meanwhile
            }
        }
        parked_.clear();
    }

    // PING would do on a subscribed connection, but hiredis 0.14 loses its reply (it takes
    // ["pong", ""] for a message on a pattern it does not know): a SUBSCRIBE of the sentinel,
    // which Redis confirms again, is the health check instead.
    void on_idle() override {
        if (!confirmations_.empty()) {
            return;
        }
        if (!send_subscribe(sentinel_, channels_[sentinel_])) {
            fail(errc::disconnected, "cannot send the health check");
        }
    }

    void on_down(errc why) override {
        const errc lost = why == errc::stopped ? errc::stopped : errc::disconnected;
        if (why == errc::timeout && !confirmations_.empty()) {
            // The oldest unconfirmed SUBSCRIBE is the one that timed out.
            settle_oldest(confirmations_.front().channel, errc::timeout);
        }
        for (auto& [channel, st] : channels_) {
            for (auto& batch : st.awaiting) {
                for (auto& done : batch) {
                    complete(std::move(done), lost);
                }
            }
        }
        for (auto& [channel, done] : parked_) {
            complete(std::move(done), why == errc::stopped ? errc::stopped : errc::not_connected);
        }
        parked_.clear();
        channels_.clear();
        confirmations_.clear();
        resubscribing_ = 0;
        if (why == errc::stopped) {
            deadline_timer_.cancel();
        }
    }

    static void on_push_hook(redisAsyncContext* ac, void* r, void* privdata) noexcept {
        try {
            static_cast<impl*>(privdata)->on_push(ac, static_cast<const redisReply*>(r));
        } catch (const std::exception& e) {
            log::error("redis subscriber: callback failed: {}", e.what());
        } catch (...) {
            log::error("redis subscriber: callback failed");
        }
    }

    void on_push(redisAsyncContext* ac, const redisReply* r) {
        // NULL: the context is being freed; on_down() does the bookkeeping.
        if (r == nullptr || ac != context()) {
            return;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_STRING) {
            log::debug("redis subscriber: unexpected reply ignored");
            return;
        }
        const auto kind = view(*r->element[0]);
        const auto channel = view(*r->element[1]);
        if (kind == "message") {
            if (r->element[2]->type == REDIS_REPLY_STRING && wanted_.contains(channel)) {
                deliver(channel, view(*r->element[2]));
            }
        } else if (kind == "subscribe") {
            on_subscribed(channel);
        } else if (kind == "unsubscribe") {
            auto it = channels_.find(channel);
            if (it != channels_.end() && !it->second.subscribe_last &&
                it->second.awaiting.empty()) {
                channels_.erase(it);
            }
        }
    }

    // Inline, inside hiredis, so that the payload is not copied: safe because no public member
    // runs anything inline (async_subscribe, unsubscribe and stop post), so the callback cannot
    // re-enter hiredis, and the owner is locked by the adapter for the whole call.
    void deliver(std::string_view channel, std::string_view payload) {
        try {
            on_message_(channel, payload);
        } catch (const std::exception& e) {
            log::error("redis subscriber: on_message failed: {}", e.what());
        } catch (...) {
            log::error("redis subscriber: on_message failed");
        }
    }

    // Completes the waiters of `channel`'s oldest unconfirmed SUBSCRIBE with `ec`.
    void settle_oldest(std::string_view channel, boost::system::error_code ec) {
        auto it = channels_.find(channel);
        if (it == channels_.end() || it->second.awaiting.empty()) {
            return;
        }
        auto& awaiting = it->second.awaiting;
        for (auto& done : awaiting.front()) {
            complete(std::move(done), ec);
        }
        awaiting.erase(awaiting.begin());
    }

    void on_subscribed(std::string_view channel) {
        if (!confirmations_.empty()) {
            confirmations_.pop_front();
        }
        settle_oldest(channel, {});
        if (resubscribing_ > 0 && --resubscribing_ == 0 && reset_pending_) {
            reset_pending_ = false;
            asio::post(strand(), guarded([this] {
                           if (!on_reset_) {
                               return;
                           }
                           try {
                               on_reset_();
                           } catch (const std::exception& e) {
                               log::error("redis subscriber: on_reset failed: {}", e.what());
                           }
                       }));
        }
    }

    static void complete(done_ptr done, boost::system::error_code ec) {
        if (done) {
            done.release()->complete(ec);
        }
    }

    void arm_deadline() {
        if (deadline_armed_ || confirmations_.empty()) {
            return;
        }
        deadline_armed_ = true;
        deadline_timer_.expires_at(confirmations_.front().deadline);
        deadline_timer_.async_wait(guarded([this](const boost::system::error_code& ec) {
            deadline_armed_ = false;
            if (!ec) {
                on_deadline();
            }
        }));
    }

    void on_deadline() {
        if (confirmations_.empty()) {
            return;
        }
        if (confirmations_.front().deadline <= steady::now()) {
            fail(errc::timeout, "subscription not confirmed within " +
                                    std::to_string(cfg().command_timeout.count()) +
                                    " ms, reconnecting");
            return;
        }
        arm_deadline();
    }

    message_callback on_message_;
    reset_callback on_reset_;
    std::string sentinel_;
    std::unordered_set<std::string, string_hash, std::equal_to<>> wanted_;
    // The rest describes the current connection only.
    std::unordered_map<std::string, channel_state, string_hash, std::equal_to<>> channels_;
    std::deque<confirmation> confirmations_;
    std::vector<std::pair<std::string, done_ptr>> parked_;  ///< asked while connecting
    std::size_t resubscribing_ = 0;  ///< confirmations left before the set is complete again
    bool had_connection_ = false;
    bool reset_pending_ = false;
    asio::steady_timer deadline_timer_;
    bool deadline_armed_ = false;
};

std::shared_ptr<subscriber> subscriber::create(const executor& ex, config cfg,
                                               message_callback on_message,
                                               reset_callback on_reset) {
    std::shared_ptr<subscriber> sub(
        new subscriber(ex, std::move(cfg), std::move(on_message), std::move(on_reset)));
    sub->impl_->set_owner(sub);
    return sub;
}

subscriber::subscriber(const executor& ex, config cfg, message_callback on_message,
                       reset_callback on_reset)
    : executor_(asio::make_strand(ex)),
      impl_(std::make_shared<impl>(executor_, std::move(cfg), std::move(on_message),
                                   std::move(on_reset))) {}

// As connection::~connection: no handler can run any more, stop synchronously.
subscriber::~subscriber() {
    impl_->stop();
}

void subscriber::start() {
    asio::post(executor_, [self = shared_from_this()] { self->impl_->start(); });
}

void subscriber::stop() {
    asio::post(executor_, [self = shared_from_this()] { self->impl_->stop(); });
}

bool subscriber::is_connected() const noexcept {
    return impl_->is_ready();
}

void subscriber::submit(std::string channel,
                        detail::completion_ptr<boost::system::error_code> done) {
    asio::post(executor_, [self = shared_from_this(), channel = std::move(channel),
                           done = std::move(done)]() mutable {
        self->impl_->subscribe(std::move(channel), std::move(done));
    });
}

void subscriber::unsubscribe(std::string channel) {
    asio::post(executor_, [self = shared_from_this(), channel = std::move(channel)] {
        self->impl_->unsubscribe(channel);
    });
}

}  // namespace confide::store::redis

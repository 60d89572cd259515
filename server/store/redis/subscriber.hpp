#pragma once

#include "common/asio_types.hpp"
#include "store/redis/completion.hpp"
#include "store/redis/config.hpp"

#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace confide::store::redis {

/// A dedicated pub/sub connection (SUBSCRIBE only). Keeps the set of channels it should be
/// subscribed to and re-applies it after every reconnection.
///
/// Redis delivers the messages of one connection in order and loses them only when the
/// connection drops; so after a reconnection `on_reset` tells the owner that messages may have
/// been missed (the owner re-reads its state from Redis).
///
/// Lifetime: stop() ends it; destroying the last reference also stops it. Pending operations do
/// not keep it alive.
///
/// Thread safety: every public member may be called from any thread; none of them runs a
/// callback inline. on_message and on_reset run on the subscriber's strand, one at a time.
class subscriber : public std::enable_shared_from_this<subscriber> {
public:
    /// Called for every message on a channel in the set. The views are valid during the call
    /// only. It must not block (the next messages wait for it).
    using message_callback =
        std::function<void(std::string_view channel, std::string_view payload)>;
    /// Called after every reconnection except the first connection, once every channel of the
    /// set is subscribed again.
    using reset_callback = std::function<void()>;

    /// `ex` is any executor; the subscriber makes its own strand on it.
    static std::shared_ptr<subscriber> create(const executor& ex, config cfg,
                                              message_callback on_message, reset_callback on_reset);
    ~subscriber();

    subscriber(const subscriber&) = delete;
    subscriber& operator=(const subscriber&) = delete;

    /// Starts connecting (and reconnecting whenever the connection drops) until stop().
    void start();

    /// Fails pending and future subscriptions with errc::stopped and closes the connection.
    void stop();

    /// Whether the connection is up now (a hint: it may drop at any moment).
    bool is_connected() const noexcept;

    /// Adds `channel` and completes once Redis has confirmed the subscription (so every message
    /// published afterwards will be received). While a connection attempt is in progress (e.g.
    /// right after start()), waits for it. Subscribing to a channel already confirmed completes
    /// at once (though never inline in this call).
    ///
    /// Completion signature: void(error_code). Fails with errc::not_connected (no connection, or
    /// the attempt failed), errc::timeout (no confirmation within config::command_timeout: the
    /// connection is then reset), errc::disconnected, errc::stopped; the channel stays in the set
    /// and is subscribed after the next reconnection anyway. The completion runs on the handler's
    /// associated executor (by default the subscriber's strand), never inside hiredis. Not
    /// cancellable: it completes by its deadline at the latest.
    template <class CompletionToken>
    auto async_subscribe(std::string channel, CompletionToken&& token) {
        return detail::async_submit<boost::system::error_code>(
            token, executor_,
            [self = shared_from_this()](detail::completion_ptr<boost::system::error_code> done,
                                        std::string name) {
                self->submit(std::move(name), std::move(done));
            },
            std::move(channel));
    }

    /// Removes `channel` (no confirmation needed): no message of it is delivered after this
    /// call has reached the strand.
    void unsubscribe(std::string channel);

private:
    struct impl;
    subscriber(const executor& ex, config cfg, message_callback on_message,
               reset_callback on_reset);
    void submit(std::string channel, detail::completion_ptr<boost::system::error_code> done);

    executor executor_;  ///< the subscriber's strand
    std::shared_ptr<impl> impl_;
};

}  // namespace confide::store::redis

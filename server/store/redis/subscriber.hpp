#pragma once

#include "common/asio_types.hpp"
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
/// Thread safety: every public member may be called from any thread. Callbacks run on the
/// subscriber's strand, one at a time.
class subscriber : public std::enable_shared_from_this<subscriber> {
public:
    using message_callback =
        std::function<void(std::string_view channel, std::string_view payload)>;
    using reset_callback = std::function<void()>;

    static std::shared_ptr<subscriber> create(executor ex, config cfg, message_callback on_message,
                                              reset_callback on_reset);
    ~subscriber();

    void start();
    void stop();

    /// Adds `channel` and completes once Redis has confirmed the subscription (so every message
    /// published afterwards will be received). Completion: void(error_code). Fails with
    /// errc::not_connected / timeout / disconnected when that cannot be confirmed; the channel
    /// stays in the set and is subscribed after the next reconnection anyway.
    void async_subscribe(std::string channel, std::function<void(boost::system::error_code)> done);

    /// Removes `channel` (no confirmation needed).
    void unsubscribe(std::string channel);

private:
    struct impl;
    subscriber(executor ex, config cfg, message_callback on_message, reset_callback on_reset);
    std::shared_ptr<impl> impl_;
};

}  // namespace confide::store::redis

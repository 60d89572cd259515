#pragma once

#include "common/asio_types.hpp"
#include "store/redis/cluster.hpp"
#include "store/redis/completion.hpp"
#include "store/redis/subscriber.hpp"

#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace confide::store::redis {

/// Sharded pub/sub on a Redis Cluster (SSUBSCRIBE, Redis 7.0): keeps a set of shard channels,
/// each subscribed on the master that owns its slot (from the `cluster`'s slot map), with one
/// connection per such master.
///
/// A channel's subscription ends when its connection drops, when its master fails over, and
/// when its slot moves to another master (Redis then sends `sunsubscribe`). The subscriber
/// subscribes it again wherever the slot is served now (following MOVED, asking the cluster for
/// a new map) and then calls `on_reset` with the channels that may have missed messages
/// meanwhile, so that the owner re-reads what they announce from storage.
///
/// Lifetime: stop() ends it; destroying the last reference also stops it. Pending operations do
/// not keep it alive.
///
/// Thread safety: every public member may be called from any thread; none of them runs a
/// callback inline. on_message and on_reset run on the subscriber's strand, one at a time.
class sharded_subscriber : public std::enable_shared_from_this<sharded_subscriber> {
public:
    /// Called for every message on a channel in the set, as for a subscriber: the views are
    /// valid during the call only; it must not block (the next messages wait for it).
    using message_callback = subscriber::message_callback;
    /// Called once the channels listed are subscribed again after a gap (their connection
    /// dropped, their master failed over or their slot moved): messages published meanwhile may
    /// have been lost. Never for a channel's first subscription.
    using reset_callback = std::function<void(const std::vector<std::string>& channels)>;

    /// `ex` is any executor; the subscriber makes its own strand on it. `topology` provides the
    /// slot map and the connection settings (cluster_config::node); it must be started.
    static std::shared_ptr<sharded_subscriber> create(const executor& ex,
                                                      std::shared_ptr<cluster> topology,
                                                      message_callback on_message,
                                                      reset_callback on_reset);
    ~sharded_subscriber();  // NOLINT(bugprone-exception-escape): see the .cpp

    sharded_subscriber(const sharded_subscriber&) = delete;
    sharded_subscriber& operator=(const sharded_subscriber&) = delete;

    /// Starts following the cluster's slot map. No effect after stop().
    void start();

    /// Fails pending subscriptions with errc::stopped and closes every connection.
    void stop();

    /// Adds `channel` and completes once the master of its slot has confirmed the subscription
    /// (every message published afterwards will be received, until a reset). Subscribing to a
    /// channel already confirmed completes at once (though never inline in this call).
    ///
    /// Completion signature: void(error_code). Fails with errc::timeout when not confirmed
    /// within config::command_timeout (the slot's master unknown, unreachable or moving),
    /// errc::not_connected or errc::disconnected when the connection it was sent on failed
    /// first or unsubscribe() came first, errc::stopped after stop(). Unless unsubscribed, the
    /// channel stays in the set and is subscribed as soon as possible anyway. The completion
    /// runs on the handler's associated executor (by default the subscriber's strand). Not
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

    /// Removes `channel`: no message of it is delivered after this call has reached the strand.
    void unsubscribe(std::string channel);

private:
    struct impl;
    sharded_subscriber(const executor& ex, std::shared_ptr<cluster> topology,
                       message_callback on_message, reset_callback on_reset);
    void submit(std::string channel, detail::completion_ptr<boost::system::error_code> done);

    executor executor_;  ///< the subscriber's strand
    std::shared_ptr<impl> impl_;
};

}  // namespace confide::store::redis

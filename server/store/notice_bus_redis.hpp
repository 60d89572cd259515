#pragma once

#include "routing/ports.hpp"
#include "store/db.hpp"
#include "store/redis/sharded_subscriber.hpp"
#include "store/redis/subscriber.hpp"
#include "store/sealing.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace confide::store {

/// routing::notice_bus on Redis pub/sub: one channel per user (keys::channel; on a Redis Cluster
/// also SSUBSCRIBEd as a shard channel, for messages), subscribed while the user has a
/// connection on this node. Each notice is decoded once and the same value handed
/// to every local listener of that user (routing encodes its frame once, for all of them).
///
/// Thread safety: safe.
class redis_notice_bus final : public routing::notice_bus,
                               public std::enable_shared_from_this<redis_notice_bus> {
public:
    /// `commands` publishes typing notices; the bus makes its own subscriber connection.
    /// `keys` opens what notices carry sealed.
    static std::shared_ptr<redis_notice_bus> create(const executor& ex, redis::config cfg,
                                                    db commands,
                                                    std::shared_ptr<const sealer> keys);

    /// On a Redis Cluster: message notices through sharded pub/sub on `cluster`'s masters
    /// (which must be started); the other notices (presence, receipts, conversation events,
    /// still PUBLISHed by their scripts) through a classic subscription on the node of
    /// `classic` (a cluster forwards a PUBLISH to every node).
    static std::shared_ptr<redis_notice_bus> create(const executor& ex,
                                                    std::shared_ptr<redis::cluster> cluster,
                                                    redis::config classic,
                                                    std::shared_ptr<const sealer> keys);

    void start();
    void stop();

    awaitable<outcome<void>> subscribe(std::string user_id,
                                       std::shared_ptr<routing::notice_listener> listener) override;
    void unsubscribe(const std::string& user_id, const routing::notice_listener* listener) override;
    void publish_typing(std::string to_user, std::string conversation_id, std::string from_user,
                        bool typing) override;

    /// Users with at least one listener on this node (for tests and metrics).
    std::size_t subscribed_users() const;

    /// Whether the pub/sub connection is up now (a hint, for readiness).
    bool is_connected() const noexcept;

private:
    redis_notice_bus(db commands, std::shared_ptr<const sealer> keys);
    void on_message(std::string_view user, std::string_view payload);
    void on_reset(const std::vector<std::string>* channels);
    std::vector<std::shared_ptr<routing::notice_listener>> listeners_of(std::string_view user);

    db commands_;
    std::shared_ptr<const sealer> keys_;
    std::shared_ptr<redis::subscriber> subscriber_;  ///< one Redis (on a cluster: classic PUBLISH)
    std::shared_ptr<redis::sharded_subscriber> sharded_;  ///< a cluster's message notices
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<std::weak_ptr<routing::notice_listener>>>
        listeners_;
};

}  // namespace confide::store

#pragma once

#include "routing/ports.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/subscriber.hpp"
#include "store/sealing.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace confide::store {

/// routing::notice_bus on Redis pub/sub: one channel per user (keys::channel), subscribed while
/// the user has a connection on this node. Each notice is decoded once and the same value handed
/// to every local listener of that user (routing encodes its frame once, for all of them).
///
/// Thread safety: safe.
class redis_notice_bus final : public routing::notice_bus,
                               public std::enable_shared_from_this<redis_notice_bus> {
public:
    /// `commands` publishes typing notices; the bus makes its own subscriber connection.
    /// `keys` opens what notices carry sealed.
    static std::shared_ptr<redis_notice_bus> create(const executor& ex, redis::config cfg,
                                                    std::shared_ptr<redis::connection> commands,
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
    redis_notice_bus(std::shared_ptr<redis::connection> commands,
                     std::shared_ptr<const sealer> keys);
    void on_message(std::string_view channel, std::string_view payload);
    void on_reset();
    std::vector<std::shared_ptr<routing::notice_listener>> listeners_of(std::string_view user);

    std::shared_ptr<redis::connection> commands_;
    std::shared_ptr<const sealer> keys_;
    std::shared_ptr<redis::subscriber> subscriber_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<std::weak_ptr<routing::notice_listener>>>
        listeners_;
};

}  // namespace confide::store

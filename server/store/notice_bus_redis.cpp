#include "store/notice_bus_redis.hpp"

#include "common/log.hpp"
#include "store/keys.hpp"
#include "store/notice_codec.hpp"
#include "store/store_metrics.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace confide::store {

std::shared_ptr<redis_notice_bus> redis_notice_bus::create(const executor& ex, redis::config cfg,
                                                           db commands,
                                                           std::shared_ptr<const sealer> keys) {
    auto bus = std::shared_ptr<redis_notice_bus>(
        new redis_notice_bus(std::move(commands), std::move(keys)));
    std::weak_ptr<redis_notice_bus> weak = bus;
    bus->subscriber_ = redis::subscriber::create(
        ex, std::move(cfg),
        [weak](std::string_view channel, std::string_view payload) {
            if (auto self = weak.lock()) {
                self->on_message(keys::user_of_channel(channel), payload);
            }
        },
        [weak] {
            if (auto self = weak.lock()) {
                self->on_reset(nullptr);
            }
        });
    return bus;
}

std::shared_ptr<redis_notice_bus> redis_notice_bus::create(const executor& ex,
                                                           std::shared_ptr<redis::cluster> cluster,
                                                           redis::config classic,
                                                           std::shared_ptr<const sealer> keys) {
    auto bus = create(ex, std::move(classic), db(cluster), std::move(keys));
    std::weak_ptr<redis_notice_bus> weak = bus;
    bus->sharded_ = redis::sharded_subscriber::create(
        ex, std::move(cluster),
        [weak](std::string_view channel, std::string_view payload) {
            if (auto self = weak.lock()) {
                self->on_message(keys::user_of_channel(channel), payload);
            }
        },
        [weak](const std::vector<std::string>& channels) {
            if (auto self = weak.lock()) {
                self->on_reset(&channels);
            }
        });
    return bus;
}

redis_notice_bus::redis_notice_bus(db commands, std::shared_ptr<const sealer> keys)
    : commands_(std::move(commands)), keys_(std::move(keys)) {}

bool redis_notice_bus::is_connected() const noexcept {
    // A sharded subscriber has a connection per master; a subscription that fails is reported
    // to the session that asked for it (and a lost one re-subscribed with on_reset).
    return subscriber_->is_connected();
}

void redis_notice_bus::start() {
    if (sharded_) {
        sharded_->start();
    }
    subscriber_->start();
}

void redis_notice_bus::stop() {
    if (sharded_) {
        sharded_->stop();
    }
    subscriber_->stop();
}

std::size_t redis_notice_bus::subscribed_users() const {
    std::lock_guard lock(mutex_);
    return listeners_.size();
}

awaitable<outcome<void>> redis_notice_bus::subscribe(
    std::string user_id, std::shared_ptr<routing::notice_listener> listener) {
    {
        std::lock_guard lock(mutex_);
        listeners_[user_id].push_back(listener);
    }
    // Subscribing again to a channel that is already subscribed is harmless, and waiting for
    // this confirmation is what guarantees that no notice published from now on is missed.
    auto [ec] = co_await subscriber_->async_subscribe(keys::channel(user_id), use_nothrow);
    if (!ec && sharded_) {
        std::tie(ec) = co_await sharded_->async_subscribe(keys::channel(user_id), use_nothrow);
    }
    if (ec) {
        log::warn("user={} could not subscribe to notices: {}", user_id, ec.message());
        co_return fail(errc::unavailable, "storage is unavailable, retry later");
    }
    co_return outcome<void>{};
}

void redis_notice_bus::unsubscribe(const std::string& user_id,
                                   const routing::notice_listener* listener) {
    std::lock_guard lock(mutex_);
    auto it = listeners_.find(user_id);
    if (it == listeners_.end()) {
        return;
    }
    auto& v = it->second;
    std::erase_if(v, [listener](const std::weak_ptr<routing::notice_listener>& w) {
        auto s = w.lock();
        return !s || s.get() == listener;
    });
    if (v.empty()) {
        listeners_.erase(it);
        // Under the lock, so that a concurrent subscribe of the same user is ordered after it.
        subscriber_->unsubscribe(keys::channel(user_id));
        if (sharded_) {
            sharded_->unsubscribe(keys::channel(user_id));
        }
    }
}

void redis_notice_bus::publish_typing(std::string to_user, std::string conversation_id,
                                      std::string from_user, bool typing) {
    commands_.async_exec({sharded_ ? "SPUBLISH" : "PUBLISH", keys::channel(to_user),
                          typing_payload(conversation_id, from_user, typing)},
                         [](boost::system::error_code ec, const redis::reply&) {
                             if (ec) {
                                 log::debug("typing notice dropped: {}", ec.message());
                             }
                         });
}

std::vector<std::shared_ptr<routing::notice_listener>> redis_notice_bus::listeners_of(
    std::string_view user) {
    std::vector<std::shared_ptr<routing::notice_listener>> out;
    std::lock_guard lock(mutex_);
    auto it = listeners_.find(std::string(user));
    if (it == listeners_.end()) {
        return out;
    }
    for (auto& w : it->second) {
        if (auto s = w.lock()) {
            out.push_back(std::move(s));
        }
    }
    return out;
}

void redis_notice_bus::on_message(std::string_view user, std::string_view payload) {
    if (user.empty()) {
        return;
    }
    auto targets = listeners_of(user);
    if (targets.empty()) {
        return;
    }
    auto n = decode_notice(user, payload, *keys_);
    if (!n) {
        log::error("user={} malformed notice ignored", user);
        return;
    }
    for (auto& t : targets) {
        t->on_notice(n);
    }
}

void redis_notice_bus::on_reset(const std::vector<std::string>* channels) {
    stats::bus_resets.inc();
    std::vector<std::shared_ptr<routing::notice_listener>> all;
    {
        std::lock_guard lock(mutex_);
        for (auto& [user, v] : listeners_) {
            // On a cluster only the channels named may have missed notices.
            if (channels != nullptr && std::find(channels->begin(), channels->end(),
                                                 keys::channel(user)) == channels->end()) {
                continue;
            }
            for (auto& w : v) {
                if (auto s = w.lock()) {
                    all.push_back(std::move(s));
                }
            }
        }
    }
    log::info("notice bus reconnected: {} connections re-read their streams", all.size());
    for (auto& l : all) {
        l->on_bus_reset();
    }
}

}  // namespace confide::store

#pragma once

#include "common/asio_types.hpp"
#include "routing/ports.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

namespace confide::routing {

/// The node's view of presence: which users have connections here. It keeps their Redis entries
/// alive (refresh every ttl/3), runs the crash sweeper, and turns "last connection ended without
/// a goodbye" into "connection lost" after the grace period, unless the user came back meanwhile
/// (on any node).
///
/// Thread safety: safe; work happens on the tracker's own strand.
class presence_tracker : public std::enable_shared_from_this<presence_tracker> {
public:
    struct options {
        std::chrono::milliseconds grace{15'000};
        std::chrono::milliseconds ttl{60'000};
        std::chrono::milliseconds sweep_interval{5'000};
    };

    static std::shared_ptr<presence_tracker> create(const executor& ex, presence_store& store,
                                                    options opts);

    /// Starts the refresh and sweep loops.
    void start();
    /// Stops the loops and pending grace timers.
    void stop();

    /// A connection of `user_id` became live here: a pending "lost" for the user is cancelled.
    void connection_opened(const std::string& user_id, const std::string& connection_id);

    /// A connection ended. Without `signed_out`, if it was the user's last connection here,
    /// "connection lost" is confirmed after the grace period.
    void connection_closed(const std::string& user_id, const std::string& connection_id,
                           bool signed_out);

private:
    struct user_state {
        std::set<std::string> connections;
        std::shared_ptr<asio::steady_timer> grace;
    };

    presence_tracker(const executor& ex, presence_store& store, options opts);
    awaitable<void> refresh_loop();
    awaitable<void> sweep_loop();
    void start_grace(const std::string& user_id, user_state& st);

    asio::strand<executor> strand_;
    presence_store& store_;
    options opts_;
    bool stopped_ = false;
    asio::steady_timer refresh_timer_;
    asio::steady_timer sweep_timer_;
    std::unordered_map<std::string, user_state> users_;
};

}  // namespace confide::routing

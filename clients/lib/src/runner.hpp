#pragma once
// Runs a client core on an executor: executes its actions over WebSocket connections
// (confide_ws) and wakes it when it asks. The library's thread and each of the load generator's
// agents run their core through one.

#include "core.hpp"

#include "confide/ws/connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace confide::client::detail {

/// What a runner hands to the one who owns the core.
class runner_owner {
public:
    /// A notification of the core.
    virtual void on_notify(notification& n) = 0;
    /// A request's completion handler, already bound to its result.
    virtual void on_callback(std::function<void()>& fn) = 0;
    /// The core has no actions left: the owner may give it more input (the runner executes
    /// what follows before it returns).
    virtual void on_drained() {}
    /// A connection ended, also one the core no longer follows (closed by it).
    virtual void on_connection_closed(const ws::close_info& /*info*/) {}

protected:
    ~runner_owner() = default;
};

/// Thread safety: none; everything on the executor, which must not run handlers concurrently.
/// The core, `target` and `owner` must outlive the runner, and the runner its connections (until
/// the executor's context has no more work or is destroyed).
class runner final : private ws::events {
public:
    /// Connections go to `target`, bound to `source` when given.
    runner(const boost::asio::any_io_executor& executor, core& c, const ws::connect_options& target,
           runner_owner& owner, std::optional<boost::asio::ip::address> source = std::nullopt);
    ~runner();
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;

    /// Executes the core's actions, those they lead to and those on_drained() adds, then
    /// re-arms the wake-up: call it after every input to the core. A call from inside (an owner
    /// callback) returns at once; the outer one picks up what was added.
    void drain();
    /// Stops waking the core and closes every connection gracefully (code 1000).
    void shut_down();
    /// Connections open, opening or closing.
    std::size_t connections() const noexcept { return connections_.size(); }

private:
    void on_open(std::uint64_t id) override;
    void on_message(std::uint64_t id, std::string_view bytes, bool binary) override;
    void on_close(std::uint64_t id, const ws::close_info& info) override;

    void execute(action& a);
    ws::connection* find(conn_id id) const;
    void rearm();

    boost::asio::any_io_executor executor_;
    core& core_;
    const ws::connect_options& target_;
    runner_owner& owner_;
    std::optional<boost::asio::ip::address> source_;
    // At most two, briefly: the current one and one still closing.
    std::vector<std::pair<conn_id, std::shared_ptr<ws::connection>>> connections_;
    std::vector<action> batch_;
    boost::asio::steady_timer wake_;
    std::optional<clock::time_point> armed_;
    bool draining_ = false;
    bool shut_down_ = false;
};

}  // namespace confide::client::detail

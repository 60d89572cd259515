#include "store/redis/connection.hpp"

#include "common/check.hpp"
#include "common/log.hpp"
#include "common/text.hpp"
#include "store/redis/reconnecting_context.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>

#include <deque>
#include <exception>
#include <string_view>

namespace confide::store::redis {
namespace {

using steady = std::chrono::steady_clock;

// hiredis routes the replies of these commands differently: one of them on this connection
// would break the reply-to-command order everything below relies on.
bool is_pubsub_or_monitor(std::string_view cmd) noexcept {
    return iequals(cmd, "subscribe") || iequals(cmd, "psubscribe") || iequals(cmd, "unsubscribe") ||
           iequals(cmd, "punsubscribe") || iequals(cmd, "ssubscribe") ||
           iequals(cmd, "sunsubscribe") || iequals(cmd, "monitor");
}

}  // namespace

struct connection::impl final : detail::reconnecting_context {
    struct pending {
        detail::exec_completion* op;  ///< null for the health check
        steady::time_point deadline;
    };

    impl(const executor& strand, config cfg)
        : reconnecting_context(strand, std::move(cfg), "connection"), deadline_timer_(strand) {}

    ~impl() override {
        // Only reachable with entries left if hiredis broke its contract; do not leak them.
        for (auto& p : pending_) {
            if (p.op != nullptr) {
                p.op->destroy();
            }
        }
    }

    void exec(std::vector<std::string>& args, detail::exec_completion_ptr op, bool asking) {
        const auto s = current_state();
        if (s == state::stopped) {
            op.release()->complete(errc::stopped, {});
            return;
        }
        if (s != state::ready) {
            op.release()->complete(errc::not_connected, {});
            return;
        }
        if (asking) {
            // Written in the same step as the command: nothing can come between them. Its reply
            // is consumed like a health check's.
            const std::array<std::string_view, 1> cmd{"ASKING"};
            if (!send(&impl::on_reply_hook, this, cmd)) {
                op.release()->complete(errc::not_connected, {});
                return;
            }
            pending_.push_back({nullptr, deadline_from_now()});
        }
        if (!send(&impl::on_reply_hook, this, args)) {
            // Only when hiredis is disconnecting, in which case the ASKING sent above (if any)
            // gets its NULL reply too.
            op.release()->complete(errc::not_connected, {});
            return;
        }
        // Every send() that succeeded gets exactly one callback, in order: the FIFO mirrors
        // hiredis's own callback list, so the privdata can be `this` for every command.
        pending_.push_back({op.get(), deadline_from_now()});
        static_cast<void>(op.release());  // owned by pending_ from here
        arm_deadline();
    }

    void on_idle() override {
        if (!pending_.empty()) {
            return;
        }
        const std::array<std::string_view, 1> ping{"PING"};
        if (!send(&impl::on_reply_hook, this, ping)) {
            fail(errc::disconnected, "cannot send the health check");
            return;
        }
        pending_.push_back({nullptr, deadline_from_now()});
        arm_deadline();
    }

    static void on_reply_hook(redisAsyncContext* /*ac*/, void* r, void* privdata) noexcept {
        try {
            static_cast<impl*>(privdata)->on_reply(static_cast<const redisReply*>(r));
        } catch (const std::exception& e) {
            log::error("redis connection: reply callback failed: {}", e.what());
        } catch (...) {
            log::error("redis connection: reply callback failed");
        }
    }

    void on_reply(const redisReply* r) {
        CONFIDE_CHECK(!pending_.empty());
        detail::exec_completion* op = pending_.front().op;
        pending_.pop_front();
        if (r == nullptr) {
            const errc why = null_reply_error();  // consumed by the health check too
            if (op != nullptr) {
                op->complete(why, {});
            }
            return;
        }
        if (op == nullptr) {
            return;  // the health check: that it came back is all it had to say
        }
        reply out = detail::copy_reply(*r);
        boost::system::error_code ec;
        if (out.is_error()) {
            ec = errc::server_error;
        }
        op->complete(ec, std::move(out));
    }

    // A NULL reply: the context is being freed. When a deadline caused it, the command at the
    // head of the FIFO is the one that timed out; the others only lost their connection.
    errc null_reply_error() noexcept {
        switch (closing_reason_) {
            case errc::stopped:
                return errc::stopped;
            case errc::timeout:
                closing_reason_ = errc::disconnected;
                return errc::timeout;
            default:
                return errc::disconnected;
        }
    }

    // One timer for all commands: replies come in order and every deadline is "sent +
    // command_timeout", so the oldest pending command has the earliest deadline. The timer is
    // re-armed only when it fires, not per command.
    void arm_deadline() {
        if (deadline_armed_ || pending_.empty()) {
            return;
        }
        deadline_armed_ = true;
        deadline_timer_.expires_at(pending_.front().deadline);
        deadline_timer_.async_wait(guarded([this](const boost::system::error_code& ec) {
            deadline_armed_ = false;
            if (!ec) {
                on_deadline();
            }
        }));
    }

    void on_deadline() {
        if (pending_.empty()) {
            return;
        }
        if (pending_.front().deadline <= steady::now()) {
            // A reply cannot be cancelled: the connection is failed (outcome unknown) and
            // reconnected.
            const bool health_check = pending_.front().op == nullptr;
            fail(errc::timeout,
                 std::string(health_check ? "no reply to the health check" : "no reply") +
                     " within " + std::to_string(cfg().command_timeout.count()) +
                     " ms, reconnecting");
            return;
        }
        arm_deadline();
    }

    void on_ready() override {
        if (!on_connected_) {
            return;
        }
        try {
            on_connected_();
        } catch (const std::exception& e) {
            log::error("redis connection: on_connected failed: {}", e.what());
        } catch (...) {
            log::error("redis connection: on_connected failed");
        }
    }

    void on_down(errc why) override {
        // The pending commands complete through hiredis's NULL replies.
        if (why == errc::stopped) {
            deadline_timer_.cancel();
        }
    }

    std::deque<pending> pending_;
    asio::steady_timer deadline_timer_;
    bool deadline_armed_ = false;
    std::function<void()> on_connected_;
};

std::shared_ptr<connection> connection::create(const executor& ex, config cfg) {
    std::shared_ptr<connection> conn(new connection(ex, std::move(cfg)));
    conn->impl_->set_owner(conn);
    return conn;
}

connection::connection(const executor& ex, config cfg)
    : executor_(asio::make_strand(ex)), impl_(std::make_unique<impl>(executor_, std::move(cfg))) {}

// Runs once no handler holds a reference (they lock their weak one while they run), so nothing
// else touches the impl concurrently: stop synchronously. Pending commands complete (posted)
// with errc::stopped.
connection::~connection() {
    impl_->stop();
}

void connection::start() {
    asio::post(executor_, [self = shared_from_this()] { self->impl_->start(); });
}

void connection::stop() {
    asio::post(executor_, [self = shared_from_this()] { self->impl_->stop(); });
}

bool connection::is_connected() const noexcept {
    return impl_->is_ready();
}

void connection::on_connected(std::function<void()> callback) {
    asio::post(executor_, [self = shared_from_this(), cb = std::move(callback)]() mutable {
        self->impl_->on_connected_ = std::move(cb);
    });
}

void connection::submit(std::vector<std::string> args, detail::exec_completion_ptr op,
                        bool asking) {
    CONFIDE_CHECK(!args.empty());
    CONFIDE_CHECK(!is_pubsub_or_monitor(args.front()));
    // Inline when already on the strand (never inside hiredis: no user code runs there).
    asio::dispatch(executor_,
                   [self = shared_from_this(), args = std::move(args), op = std::move(op),
                    asking]() mutable { self->impl_->exec(args, std::move(op), asking); });
}

}  // namespace confide::store::redis

#pragma once
// Group commit of sends on one Redis (docs/design.md, "Group commit").

#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "store/db.hpp"
#include "store/redis/completion.hpp"
#include "store/redis/reply.hpp"

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace confide::store {

/// One send's keys and arguments (send.lua's: send_batcher::keys_per_send and args_per_send).
struct send_call {
    std::vector<std::string> keys;
    std::vector<std::string> args;
};

/// Sends on one Redis, at most one call in flight: a send that arrives while a call is in flight
/// queues, and when the call completes everything queued (up to max_batch sends) goes out as the
/// next call, at once. Nothing waits for more sends to come: an idle server sends a lone send
/// the moment it arrives, and under load a call carries whatever queued during the previous one.
///
/// The calls themselves are made by a submit function (production: run_sends(), EVALSHA of
/// send.lua for one send, of send_batch.lua for more), which answers one outcome per send, in
/// order; a call that fails (timeout, dropped connection) answers every send of it with the same
/// failure.
///
/// Lifetime: a call in flight keeps the batcher alive; sends queued when the last other
/// reference goes are still sent.
///
/// Thread safety: async_send() may be called from any thread; each send completes on its own
/// handler's executor.
class send_batcher : public std::enable_shared_from_this<send_batcher> {
public:
    /// Makes the call of one batch (1 to max_batch sends, in order) and answers one outcome per
    /// send, in order (another count aborts: a broken invariant). Awaited on the batcher's
    /// executor; an exception fails every send of the batch with errc::unavailable.
    using submit_fn =
        std::function<awaitable<std::vector<outcome<redis::reply>>>(std::vector<send_call> calls)>;

    static constexpr std::size_t keys_per_send = 7;
    static constexpr std::size_t args_per_send = 18;
    /// Sends per call, at most: bounds a call's size (64 sends of ~1 KB: ~64 KB of arguments)
    /// and the time Redis spends in one script, during which it serves nobody else.
    static constexpr std::size_t max_batch = 64;

    /// `ex`: where the calls are made (and where handlers without an executor complete).
    static std::shared_ptr<send_batcher> create(executor ex, submit_fn submit);

    send_batcher(const send_batcher&) = delete;
    send_batcher& operator=(const send_batcher&) = delete;
    ~send_batcher() = default;

    /// Queues one send (its keys and arguments as send.lua's: keys_per_send and args_per_send
    /// of them, else it aborts) and sends it with the next call.
    ///
    /// Completion signature: void(outcome<redis::reply>): send.lua's reply for this send (its
    /// 'err' replies as failures, as call_script()), or the failure of the whole call. Not
    /// cancellable: a queued send goes out, and completes when its call does.
    template <class CompletionToken>
    auto async_send(send_call call, CompletionToken&& token) {
        return redis::detail::async_submit<outcome<redis::reply>>(
            token, executor_,
            [self = shared_from_this()](waiter_ptr op, send_call c) {
                self->enqueue(std::move(c), std::move(op));
            },
            std::move(call));
    }

private:
    using waiter_ptr = redis::detail::completion_ptr<outcome<redis::reply>>;
    struct queued {
        send_call call;
        waiter_ptr waiter;
    };

    send_batcher(executor ex, submit_fn submit);
    void enqueue(send_call call, waiter_ptr waiter);
    /// Takes the next batch off the queue; empty (and no call in flight any more) when none.
    std::vector<queued> take();
    /// Makes the calls until the queue is empty; `self` keeps the batcher alive meanwhile.
    static awaitable<void> drain(std::shared_ptr<send_batcher> self);

    executor executor_;
    submit_fn submit_;
    std::mutex mutex_;
    std::deque<queued> queue_;  ///< bounded by the sends awaiting: each session sends one at a time
    bool in_flight_ = false;    ///< a drain() runs
};

/// The production submit function of a send_batcher on one Redis (`d` must not be a cluster):
/// send.lua for a lone send, send_batch.lua for more, each reply as call_script() makes it.
awaitable<std::vector<outcome<redis::reply>>> run_sends(db d, std::vector<send_call> calls);

}  // namespace confide::store

#include "store/send_batcher.hpp"

#include "common/check.hpp"
#include "common/log.hpp"
#include "store/commands.hpp"
#include "store/scripts.hpp"
#include "store/store_metrics.hpp"

#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <exception>
#include <iterator>
#include <utility>

namespace confide::store {

std::shared_ptr<send_batcher> send_batcher::create(executor ex, submit_fn submit) {
    return std::shared_ptr<send_batcher>(new send_batcher(std::move(ex), std::move(submit)));
}

send_batcher::send_batcher(executor ex, submit_fn submit)
    : executor_(std::move(ex)), submit_(std::move(submit)) {}

void send_batcher::enqueue(send_call call, waiter_ptr waiter) {
    CONFIDE_CHECK(call.keys.size() == keys_per_send && call.args.size() == args_per_send);
    {
        std::lock_guard lock(mutex_);
        queue_.push_back({std::move(call), std::move(waiter)});
        if (in_flight_) {
            return;  // goes with the call after the one in flight
        }
        in_flight_ = true;
    }
    asio::co_spawn(executor_, drain(shared_from_this()), log_exception{"send batcher"});
}

std::vector<send_batcher::queued> send_batcher::take() {
    std::lock_guard lock(mutex_);
    const auto n = std::min(queue_.size(), max_batch);
    std::vector<queued> batch;
    batch.reserve(n);
    std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n),
              std::back_inserter(batch));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    // Cleared under the same lock as the emptiness seen: a send queued after this starts the
    // next drain itself.
    in_flight_ = n > 0;
    return batch;
}

awaitable<void> send_batcher::drain(std::shared_ptr<send_batcher> self) {
    for (auto batch = self->take(); !batch.empty(); batch = self->take()) {
        std::vector<send_call> calls;
        calls.reserve(batch.size());
        for (auto& q : batch) {
            calls.push_back(std::move(q.call));
        }
        std::vector<outcome<redis::reply>> results;
        bool thrown = false;
        try {
            results = co_await self->submit_(std::move(calls));
        } catch (const std::exception& e) {
            // The call's outcome is unknown, as after a dropped connection: the clients retry
            // (idempotent by client_msg_id).
            log::error("a batch of {} sends failed: {}", batch.size(), e.what());
            thrown = true;
        }
        if (thrown) {
            results.assign(batch.size(), fail(errc::unavailable, "storage failed; retry"));
        }
        CONFIDE_CHECK(results.size() == batch.size());
        // Each sender resumes at once when it runs on this thread (one shard: the common case),
        // as it would on its own command's reply; the next batch is taken after them, so a
        // send they queue (a seq retry) goes with it.
        for (std::size_t i = 0; i < batch.size(); ++i) {
            batch[i].waiter.release()->dispatch(std::move(results[i]));
        }
    }
}

awaitable<std::vector<outcome<redis::reply>>> run_sends(db d, std::vector<send_call> calls) {
    stats::send_calls.inc();
    stats::sends_called.inc(calls.size());
    std::vector<outcome<redis::reply>> out;
    if (calls.size() == 1) {
        // A lone send (an idle server, or a quiet moment): send.lua itself, without the batch
        // script's loop and tables.
        out.push_back(co_await call_script(d, scripts::send(), std::move(calls[0].keys),
                                           std::move(calls[0].args)));
        co_return out;
    }
    std::vector<std::string> keys;
    std::vector<std::string> args;
    keys.reserve(calls.size() * send_batcher::keys_per_send);
    args.reserve(calls.size() * send_batcher::args_per_send);
    for (auto& c : calls) {
        std::move(c.keys.begin(), c.keys.end(), std::back_inserter(keys));
        std::move(c.args.begin(), c.args.end(), std::back_inserter(args));
    }
    auto res = co_await call_script(d, scripts::send_batch(), std::move(keys), std::move(args));
    if (res && (!res->is_array() || res->elements.size() != calls.size())) {
        res = fail(errc::internal, "malformed reply from the send script");
    }
    if (!res) {
        out.assign(calls.size(), res.error());
        co_return out;
    }
    out.reserve(calls.size());
    for (auto& r : res->elements) {
        out.push_back(script_reply(std::move(r)));
    }
    co_return out;
}

}  // namespace confide::store

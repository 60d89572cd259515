#include "routing/workflow_sweeper.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "routing/routing_metrics.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>

#include <string>
#include <unordered_set>

namespace confide::routing {

std::shared_ptr<workflow_sweeper> workflow_sweeper::create(const executor& ex,
                                                           workflow_store& store,
                                                           directory_cache& directory, options opts,
                                                           audit_log* audit) {
    return std::shared_ptr<workflow_sweeper>(
        new workflow_sweeper(ex, store, directory, opts, audit));
}

workflow_sweeper::workflow_sweeper(const executor& ex, workflow_store& store,
                                   directory_cache& directory, options opts, audit_log* audit)
    : strand_(asio::make_strand(ex)),
      store_(store),
      directory_(directory),
      opts_(opts),
      audit_(audit),
      timer_(strand_) {}

void workflow_sweeper::start() {
    asio::co_spawn(
        strand_, [self = shared_from_this()] { return self->loop(); },
        log_exception{"workflow sweeper"});
}

void workflow_sweeper::stop() {
    asio::dispatch(strand_, [self = shared_from_this()] {
        self->stopped_ = true;
        self->timer_.cancel();
    });
}

awaitable<void> workflow_sweeper::loop() {
    while (!stopped_) {
        timer_.expires_after(opts_.interval);
        auto [ec] = co_await timer_.async_wait(use_nothrow);
        if (ec || stopped_) {
            co_return;
        }
        co_await sweep(now_ms());
    }
}

awaitable<void> workflow_sweeper::sweep(std::int64_t now_ms) {
    co_await expire(now_ms);
    co_await remind(now_ms);
    co_await retain(now_ms);
}

awaitable<void> workflow_sweeper::expire(std::int64_t now_ms) {
    while (!stopped_) {
        auto due = co_await store_.due_expiries(now_ms, opts_.batch);
        if (!due) {
            log::debug("inquiry expiry: {}", due.error().message);
            co_return;
        }
        for (auto& cid : *due) {
            auto r = co_await store_.expire_inquiry(cid, now_ms);
            if (!r) {
                log::debug("inquiry expiry: {}", r.error().message);
                co_return;
            }
            if (*r) {
                log::info("conversation={} inquiry expired unanswered", cid);
            }
        }
        // Each call removed what it handled: a full batch may have more behind it.
        if (due->size() < opts_.batch) {
            co_return;
        }
    }
}

awaitable<void> workflow_sweeper::remind(std::int64_t now_ms) {
    std::shared_ptr<const directory_snapshot> dir;
    while (!stopped_) {
        auto due = co_await store_.due_reminders(now_ms, opts_.batch);
        if (!due) {
            log::debug("unread reminders: {}", due.error().message);
            co_return;
        }
        for (auto& r : *due) {
            if (r.to_specialist) {
                if (!dir) {
                    auto snapshot = co_await directory_.snapshot();
                    if (!snapshot) {
                        log::debug("unread reminders: {}", snapshot.error().message);
                        co_return;
                    }
                    dir = std::move(*snapshot);
                }
                // Only office time counts; a specialist no longer listed has no hours.
                if (const auto* p = dir->find(r.specialist_id)) {
                    const auto wanted =
                        office_time_after(*p, r.unread_since_ms, opts_.remind_specialist_after);
                    if (wanted > now_ms) {
                        auto moved = co_await store_.postpone_reminder(r, wanted);
                        if (!moved) {
                            log::debug("unread reminders: {}", moved.error().message);
                            co_return;
                        }
                        continue;
                    }
                }
            }
            const std::string cid = r.conversation_id;
            const std::string user = r.recipient_id;
            const std::int64_t since = r.unread_since_ms;
            auto sent = co_await store_.send_reminder(std::move(r), now_ms);
            if (!sent) {
                log::debug("unread reminders: {}", sent.error().message);
                co_return;
            }
            if (*sent) {
                log::info("user={} conversation={} unread reminder after {} ms", user, cid,
                          now_ms - since);
            }
        }
        if (due->size() < opts_.batch) {
            co_return;
        }
    }
}

awaitable<void> workflow_sweeper::retain(std::int64_t now_ms) {
    if (opts_.retention.count() <= 0) {
        co_return;
    }
    const std::int64_t cutoff = now_ms - opts_.retention.count();
    const auto give_up = std::chrono::steady_clock::now() + opts_.interval;
    std::uint64_t messages = 0;
    // A conversation with more than a batch of old messages is trimmed by several calls.
    std::unordered_set<std::string> conversations;
    bool more = true;
    for (std::uint32_t round = 0; more && round < opts_.retention_rounds && !stopped_ &&
                                  std::chrono::steady_clock::now() < give_up;
         ++round) {
        auto due = co_await store_.due_retention(cutoff, opts_.batch);
        if (!due) {
            log::debug("retention: {}", due.error().message);
            break;
        }
        // A full list may have more behind it; so may a conversation with more than a batch of
        // old messages (it stays listed until they are gone).
        more = due->size() >= opts_.batch;
        for (const auto& cid : *due) {
            auto r = co_await store_.trim_conversation(cid, cutoff, opts_.batch, now_ms);
            if (!r) {
                log::debug("retention: {}", r.error().message);
                more = false;
                break;
            }
            if (r->messages > 0) {
                conversations.insert(cid);
                messages += r->messages;
                stats::retention_trimmed.inc(r->messages);
            }
            more = more || r->due;
        }
    }
    if (messages == 0) {
        co_return;
    }
    // Counts and the cutoff only: which conversations is not needed to show that the policy ran.
    const std::string detail = std::to_string(messages) + " messages in " +
                               std::to_string(conversations.size()) +
                               " conversations written before " + std::to_string(cutoff);
    log::info("retention: {}", detail);
    if (audit_ != nullptr) {
        audit_event e;
        e.action = audit_action::retention;
        e.time_ms = now_ms;
        e.detail = detail;
        audit_->record(std::move(e));
    }
}

}  // namespace confide::routing

#pragma once

#include "common/asio_types.hpp"
#include "routing/audit.hpp"
#include "routing/directory.hpp"
#include "routing/ports.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace confide::routing {

/// The consultation workflow's clock, one per node: every interval it expires the inquiries
/// whose time is up, sends the unread reminders that are due and, with a retention, deletes the
/// messages older than it. Storage keeps the deadlines for all nodes and lets exactly one node
/// act on each (workflow_store), so every node runs a sweeper and each event still happens once.
///
/// A reminder to a specialist counts office time only: storage schedules it `remind_specialist
/// _after` past the first unread message, and the sweeper postpones it until that much of the
/// specialist's office hours has passed (directory_store gives the hours).
///
/// Thread safety: safe; work happens on the sweeper's own strand.
class workflow_sweeper : public std::enable_shared_from_this<workflow_sweeper> {
public:
    struct options {
        std::chrono::milliseconds interval{5'000};
        /// Office time a message may stay unread by a specialist before the reminder.
        std::chrono::milliseconds remind_specialist_after{std::chrono::minutes(15)};
        /// Deadlines handled per storage call; a round goes on while calls come back full.
        std::uint32_t batch = 100;
        /// Messages older than this are deleted (`batch` conversations per storage call, `batch`
        /// messages of one per call). Zero: never.
        std::chrono::milliseconds retention{0};
        /// Storage calls listing conversations due for retention in one sweep, at most (and no
        /// longer than one interval): a large backlog is worked off over several sweeps.
        std::uint32_t retention_rounds = 100;
    };

    /// `audit`, when given, gets one content-free event per sweep that deleted messages.
    static std::shared_ptr<workflow_sweeper> create(const executor& ex, workflow_store& store,
                                                    directory_cache& directory, options opts,
                                                    audit_log* audit = nullptr);

    /// Starts the loop (the first round after one interval).
    void start();
    /// Stops the loop; a round in progress finishes its current storage call.
    void stop();

    /// One round at `now_ms`: expiries, reminders, then retention. Storage failures are logged
    /// and left for the next round. Completes when the round is done.
    awaitable<void> sweep(std::int64_t now_ms);

private:
    workflow_sweeper(const executor& ex, workflow_store& store, directory_cache& directory,
                     options opts, audit_log* audit);
    awaitable<void> loop();
    awaitable<void> expire(std::int64_t now_ms);
    awaitable<void> remind(std::int64_t now_ms);
    awaitable<void> retain(std::int64_t now_ms);

    asio::strand<executor> strand_;
    workflow_store& store_;
    directory_cache& directory_;
    options opts_;
    audit_log* audit_;
    bool stopped_ = false;
    asio::steady_timer timer_;
};

}  // namespace confide::routing

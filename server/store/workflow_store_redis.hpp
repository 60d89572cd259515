#pragma once

#include "routing/ports.hpp"
#include "store/db.hpp"

#include <cstddef>
#include <memory>

namespace confide::store {

struct workflow_store_config {
    /// Events kept per user stream (as chat_store_config).
    std::size_t inbox_max_events = 100'000;
    /// Reminders kept in the stream (approximate trimming): the platform's mailer reads and acks
    /// them long before.
    std::size_t reminder_stream_max = 1'000'000;
};

/// routing::workflow_store on Redis: the inquiry expiries (keys::inquiry_expiry), reminder
/// schedule (keys::reminders_due) and retention index (keys::retention), each acted on by a
/// script that removes or moves its entry in the same atomic step (expire.lua, remind.lua,
/// retain.lua): one node acts, the others find nothing.
///
/// Thread safety: safe; the coroutines may run concurrently on any executor.
class redis_workflow_store final : public routing::workflow_store {
public:
    redis_workflow_store(db conn, workflow_store_config cfg);

    awaitable<outcome<std::vector<std::string>>> due_expiries(std::int64_t now_ms,
                                                              std::uint32_t limit) override;
    awaitable<outcome<bool>> expire_inquiry(std::string conversation_id,
                                            std::int64_t now_ms) override;
    awaitable<outcome<std::vector<routing::due_reminder>>> due_reminders(
        std::int64_t now_ms, std::uint32_t limit) override;
    awaitable<outcome<void>> postpone_reminder(routing::due_reminder r,
                                               std::int64_t due_ms) override;
    awaitable<outcome<bool>> send_reminder(routing::due_reminder r, std::int64_t now_ms) override;
    awaitable<outcome<std::vector<std::string>>> due_retention(std::int64_t cutoff_ms,
                                                               std::uint32_t limit) override;
    awaitable<outcome<trimmed>> trim_conversation(std::string conversation_id,
                                                  std::int64_t cutoff_ms, std::uint32_t limit,
                                                  std::int64_t now_ms) override;

private:
    /// send_reminder on a Redis Cluster: the conversation's check, the reminder appended once
    /// (a marker in the stream's slot), the burst marked sent, the schedule entry removed.
    awaitable<outcome<bool>> send_reminder_steps(routing::due_reminder r, std::int64_t now_ms);

    db conn_;
    workflow_store_config cfg_;
};

}  // namespace confide::store

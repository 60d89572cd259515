#pragma once
// The audit trail on Redis: one stream (keys::audit_log()) with a retention of its own, and a
// JSON line per event in the log.

#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "routing/audit.hpp"
#include "store/db.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace confide::store {

/// How long and how much of the audit trail Redis keeps. The log's JSON lines are the copy for
/// long-term archives (HIPAA asks for six years of records; Redis is not the place for that).
struct audit_config {
    /// Entries older than this are trimmed at every add (XADD MINID, exact).
    std::chrono::milliseconds retention = std::chrono::hours(24 * 90);
    /// At most about this many entries (XTRIM MAXLEN ~ after every `trim_every` adds).
    std::size_t max_entries = 10'000'000;
    std::size_t trim_every = 1000;
    /// This node's name, stored with each entry.
    std::string node_id;
};

/// A page of the audit trail.
struct audit_page {
    std::vector<routing::audit_event> events;  ///< oldest first
    /// The range holds more: the limit was reached or the scan stopped (ask again from the time
    /// after the last event).
    bool more = false;
};

/// routing::audit_log on Redis. Each event becomes a JSON line in the log (log::audit) and an
/// entry of the stream whose id is Redis's time of the add: `a` action, `u` user, `d` device,
/// `ip` address, `c` connection, `cv` conversation, `r` detail, `n` node (empty ones left out).
///
/// Thread safety: safe.
class redis_audit_log final : public routing::audit_log {
public:
    redis_audit_log(db conn, audit_config cfg);

    /// Logs the line, then adds the entry without waiting for Redis (a failure is logged: the
    /// line stays the record).
    void record(routing::audit_event e) override;

    /// Adds the entry and waits for Redis's answer, without a log line: for confide-admin, whose
    /// commands must not report success unless their audit event is stored. Fails with
    /// unavailable when Redis does.
    awaitable<outcome<void>> store(routing::audit_event e);

    /// Events of `user_id` (every user when empty) added from `from_ms` to `to_ms` (inclusive,
    /// Redis time), oldest first, at most `limit` of them. Reads the range in batches and stops
    /// after `max_scanned` entries (then `more`). Fails with unavailable when Redis does.
    awaitable<outcome<audit_page>> query(std::string user_id, std::int64_t from_ms,
                                         std::int64_t to_ms, std::uint32_t limit,
                                         std::size_t max_scanned = 1'000'000) const;

private:
    // XADD with the retention's MINID for `e` (whose strings it takes).
    std::vector<std::string> add_command(routing::audit_event&& e) const;

    db conn_;
    audit_config cfg_;
    std::atomic<std::size_t> added_{0};
};

}  // namespace confide::store

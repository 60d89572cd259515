#pragma once
// The load generator's counters: one set per shard, written by the shard's thread only and read
// by the controller's progress line at any time.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace confide::loadgen {

// X-macro: every counter once, so the live set, its snapshot and the report cannot disagree.
#define CONFIDE_LOADGEN_COUNTERS(X)                                                            \
    X(connect_attempts)  /* link opens, reconnections included */                              \
    X(attempt_failures)  /* opens, authentications or syncs that failed */                     \
    X(established)       /* connections authenticated and synced for the first time */         \
    X(failed)            /* connections that gave up */                                        \
    X(reconnects)        /* successful re-establishments after a drop */                       \
    X(drops)             /* drops caused by --churn */                                         \
    X(unexpected_closes) /* established connections closed by the server or the network */     \
    X(sync_resets)       /* SyncReply.reset on a resume: events may be missing */              \
    X(generated)         /* messages created */                                                \
    X(sent)              /* send frames written (retries included) */                          \
    X(retries)           /* send frames for a message sent before */                           \
    X(acked)             /* messages acked for the first time */                               \
    X(acked_duplicate)   /* SendReply.duplicate: a retry of a stored message */                \
    X(delivered)         /* messages pushed to the other party for the first time */           \
    X(echoed)            /* messages pushed to the sender's own device for the first time */   \
    X(duplicated)        /* pushes of a message already pushed to that device */               \
    X(reordered)         /* a seq that arrived after a later one of its conversation */        \
    X(seq_duplicates)    /* a seq that arrived twice on one device */                          \
    X(seq_gaps)          /* pushes that skipped seqs (filled later: reordered; never: lost) */ \
    X(corrupted)         /* body, seq or conversation not as sent */                           \
    X(misrouted)         /* a message pushed to a device that is not a party */                \
    X(unknown_messages)  /* pushes of messages this run did not send */                        \
    X(failed_messages)   /* messages refused for good */                                       \
    X(behind_schedule)   /* paced sends skipped because the outbox was full */                 \
    X(events)            /* EventPush frames */                                                \
    X(echo_replies)      /* SendReplies that stood for the push of their own message */        \
    X(conversation_events)                                                                     \
    X(receipts)                                                                                \
    X(presence)                                                                                \
    X(acks_sent)                                                                               \
    X(pings_sent)                                                                              \
    X(error_replies)                                                                           \
    X(bad_frames) /* frames that did not parse or made no sense */

/// Error replies are counted by ErrorCode; anything above this lands in the last slot.
inline constexpr std::size_t error_code_slots = 16;
/// Server close codes 1000..1015 and 4000..4015, and "other" last.
inline constexpr std::size_t close_code_slots = 33;

/// The slot of close code `code` (see close_code_slots).
constexpr std::size_t close_slot(std::uint16_t code) noexcept {
    if (code >= 1000 && code < 1016) {
        return code - 1000U;
    }
    if (code >= 4000 && code < 4016) {
        return 16U + (code - 4000U);
    }
    return close_code_slots - 1;
}

/// The close code of slot `slot` (0 for "other").
constexpr std::uint16_t close_code_of(std::size_t slot) noexcept {
    if (slot < 16) {
        return static_cast<std::uint16_t>(1000 + slot);
    }
    if (slot < 32) {
        return static_cast<std::uint16_t>(4000 + slot - 16);
    }
    return 0;
}

/// A plain copy of the counters, for sums and reports.
struct counter_values {
#define CONFIDE_LOADGEN_FIELD(name) std::uint64_t name = 0;
    CONFIDE_LOADGEN_COUNTERS(CONFIDE_LOADGEN_FIELD)
#undef CONFIDE_LOADGEN_FIELD
    std::array<std::uint64_t, error_code_slots> errors{};
    std::array<std::uint64_t, close_code_slots> server_closes{};

    counter_values& operator+=(const counter_values& o) noexcept;
};

/// The live counters. Thread safety: one writer thread (add()), any number of readers
/// (snapshot()).
struct counters {
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` is a member's name, not an expression.
#define CONFIDE_LOADGEN_FIELD(name) std::atomic<std::uint64_t> name{0};
    CONFIDE_LOADGEN_COUNTERS(CONFIDE_LOADGEN_FIELD)
#undef CONFIDE_LOADGEN_FIELD
    std::array<std::atomic<std::uint64_t>, error_code_slots> errors{};
    std::array<std::atomic<std::uint64_t>, close_code_slots> server_closes{};

    /// Adds `n` to `c`. Only the owning thread writes, so a plain load and store suffice.
    static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    counter_values snapshot() const noexcept;
};

}  // namespace confide::loadgen

#pragma once
// The load generator's bookkeeping, free of I/O: the order in which one device sees one
// conversation (seq_tracker) and the fate of every message one sender generated
// (message_ledger). The agents feed them; the report adds them up.

#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

namespace confide::loadgen {

/// One device's view of one conversation: every seq must arrive once, in increasing order,
/// without gaps (a device sees every message of its conversations, its own included). Without
/// `gapless` (a device that is not pushed its own messages), seqs must only increase.
///
/// Thread safety: none.
class seq_tracker {
public:
    enum class verdict {
        in_order,   ///< the next seq expected
        gap,        ///< later than expected: the seqs skipped are remembered as holes
        reordered,  ///< fills a hole: arrived after a later seq
        duplicate,  ///< seen before
        behind,     ///< not gapless: lower than one seen before (a duplicate or reordered)
    };

    /// Holes remembered at most; past this, further holes are only counted in overflow().
    static constexpr std::size_t max_holes = 100'000;

    explicit seq_tracker(std::uint64_t first = 1, bool gapless = true)
        : next_(first), gapless_(gapless) {}

    verdict on_seq(std::uint64_t seq);

    /// Seqs skipped and not (yet) seen.
    std::size_t holes() const noexcept { return holes_.size() + overflow_; }
    std::uint64_t overflow() const noexcept { return overflow_; }
    /// The next seq expected.
    std::uint64_t next() const noexcept { return next_; }

private:
    std::uint64_t next_;
    bool gapless_;
    std::set<std::uint64_t> holes_;
    std::uint64_t overflow_ = 0;
};

/// Everything known about one generated message. Times are microseconds on the run's steady
/// clock; 0 means "not yet".
struct message_record {
    std::int64_t created_us = 0;  ///< when it was due to be sent (latency starts here)
    std::int64_t acked_us = 0;
    std::uint64_t seq = 0;           ///< from the ack or the first delivery
    std::uint32_t conversation = 0;  ///< the caller's conversation key
    std::uint16_t attempts = 0;      ///< frames sent for it (retries included)
    std::uint16_t deliveries = 0;    ///< to the other party
    std::uint16_t echoes = 0;        ///< to the sender's own device
    bool failed = false;             ///< refused for good (a non-retryable error)
};

/// The outcome of an ack (SendReply) or a delivery (EventPush), as checked against the ledger.
enum class check {
    first,         ///< as expected
    again,         ///< a delivery already seen (duplicate), or a repeated ack (harmless)
    seq_mismatch,  ///< the seq disagrees with the one known for this message
    wrong_conversation,
    unknown,  ///< no such message
};

/// Totals over a ledger (or the sum of several).
struct ledger_tally {
    std::uint64_t generated = 0;
    std::uint64_t acked = 0;
    std::uint64_t failed = 0;             ///< refused for good
    std::uint64_t unacked = 0;            ///< neither acked nor failed at the end
    std::uint64_t delivered = 0;          ///< reached the other party (at least once)
    std::uint64_t echoed = 0;             ///< reached the sender's device (at least once)
    std::uint64_t lost = 0;               ///< acked, never delivered to the other party
    std::uint64_t lost_echo = 0;          ///< acked, never echoed to the sender's device
    std::uint64_t duplicated = 0;         ///< extra deliveries and echoes
    std::uint64_t delivered_unacked = 0;  ///< delivered although never acked (ack pending/lost)

    ledger_tally& operator+=(const ledger_tally& o) noexcept;
};

/// The messages of one sender, numbered 0, 1, 2, ... in the order they were generated.
///
/// Thread safety: none.
class message_ledger {
public:
    /// `expect_echo`: a message is settled only once it also reached the sender's own device.
    explicit message_ledger(bool expect_echo = true) : expect_echo_(expect_echo) {}

    /// A new message in `conversation`, due at `created_us`; returns its number.
    std::uint64_t create(std::uint32_t conversation, std::int64_t created_us);

    std::size_t size() const noexcept { return records_.size(); }
    bool contains(std::uint64_t n) const noexcept { return n < records_.size(); }
    /// Precondition: contains(n).
    message_record& at(std::uint64_t n) { return records_[n]; }
    const message_record& at(std::uint64_t n) const { return records_[n]; }

    /// A SendReply for message `n` with `seq`: `first` the first time; `again` for the same seq.
    check on_ack(std::uint64_t n, std::uint64_t seq, std::int64_t now_us);
    /// An EventPush of message `n` with `seq` in `conversation`, to the other party (echo=false)
    /// or to the sender's own device (echo=true).
    check on_delivery(std::uint64_t n, std::uint64_t seq, std::uint32_t conversation, bool echo);
    /// Message `n` was refused for good.
    void on_failed(std::uint64_t n);

    /// Messages created and not settled yet. Settled: failed, or acked and delivered (and
    /// echoed, when expected). O(1).
    std::uint64_t unsettled() const noexcept { return unsettled_; }

    ledger_tally tally() const noexcept;

private:
    bool is_settled(const message_record& r) const noexcept;
    void update(bool was_settled, const message_record& r) noexcept;

    bool expect_echo_;
    std::vector<message_record> records_;
    std::uint64_t unsettled_ = 0;
};

}  // namespace confide::loadgen

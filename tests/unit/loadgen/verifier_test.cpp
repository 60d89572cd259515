#include "verifier.hpp"

#include <gtest/gtest.h>

namespace {

using namespace confide::loadgen;
using verdict = seq_tracker::verdict;

TEST(seq_tracker, in_order_from_one) {
    seq_tracker t;
    for (std::uint64_t s = 1; s <= 100; ++s) {
        EXPECT_EQ(t.on_seq(s), verdict::in_order);
    }
    EXPECT_EQ(t.holes(), 0U);
    EXPECT_EQ(t.next(), 101U);
}

TEST(seq_tracker, duplicate_of_a_seen_seq) {
    seq_tracker t;
    t.on_seq(1);
    t.on_seq(2);
    EXPECT_EQ(t.on_seq(2), verdict::duplicate);
    EXPECT_EQ(t.on_seq(1), verdict::duplicate);
    EXPECT_EQ(t.on_seq(3), verdict::in_order);
}

TEST(seq_tracker, gap_then_late_arrival_is_reordered) {
    seq_tracker t;
    t.on_seq(1);
    EXPECT_EQ(t.on_seq(4), verdict::gap);
    EXPECT_EQ(t.holes(), 2U);
    EXPECT_EQ(t.on_seq(3), verdict::reordered);
    EXPECT_EQ(t.on_seq(3), verdict::duplicate);
    EXPECT_EQ(t.holes(), 1U);
    EXPECT_EQ(t.on_seq(5), verdict::in_order);
    // Seq 2 never comes: a hole at the end is a gap (a lost message).
    EXPECT_EQ(t.holes(), 1U);
}

TEST(seq_tracker, first_seq_missing_is_a_gap) {
    seq_tracker t;
    EXPECT_EQ(t.on_seq(2), verdict::gap);
    EXPECT_EQ(t.holes(), 1U);
    EXPECT_EQ(t.on_seq(1), verdict::reordered);
    EXPECT_EQ(t.holes(), 0U);
}

TEST(seq_tracker, huge_jump_is_bounded) {
    seq_tracker t;
    EXPECT_EQ(t.on_seq(seq_tracker::max_holes + 1000), verdict::gap);
    EXPECT_EQ(t.holes(), seq_tracker::max_holes + 999);
    EXPECT_EQ(t.overflow(), 999U);
}

TEST(message_ledger, ack_then_deliveries_settle) {
    message_ledger l;
    const auto n = l.create(7, 100);
    EXPECT_EQ(n, 0U);
    EXPECT_EQ(l.unsettled(), 1U);
    EXPECT_EQ(l.on_ack(n, 1, 200), check::first);
    EXPECT_EQ(l.unsettled(), 1U);
    EXPECT_EQ(l.on_delivery(n, 1, 7, false), check::first);
    EXPECT_EQ(l.unsettled(), 1U) << "the echo is still expected";
    EXPECT_EQ(l.on_delivery(n, 1, 7, true), check::first);
    EXPECT_EQ(l.unsettled(), 0U);
    const auto t = l.tally();
    EXPECT_EQ(t.generated, 1U);
    EXPECT_EQ(t.acked, 1U);
    EXPECT_EQ(t.delivered, 1U);
    EXPECT_EQ(t.echoed, 1U);
    EXPECT_EQ(t.lost, 0U);
    EXPECT_EQ(t.duplicated, 0U);
    EXPECT_EQ(l.at(n).acked_us, 200);
}

TEST(message_ledger, without_echo_expectation) {
    message_ledger l(false);
    const auto n = l.create(0, 1);
    l.on_delivery(n, 5, 0, false);
    EXPECT_EQ(l.unsettled(), 1U);
    l.on_ack(n, 5, 2);
    EXPECT_EQ(l.unsettled(), 0U);
}

TEST(message_ledger, delivery_before_ack_and_seq_agreement) {
    message_ledger l;
    const auto n = l.create(1, 0);
    EXPECT_EQ(l.on_delivery(n, 9, 1, false), check::first);
    EXPECT_EQ(l.tally().delivered_unacked, 1U);
    EXPECT_EQ(l.on_ack(n, 10, 5), check::seq_mismatch);
    EXPECT_EQ(l.on_ack(n, 9, 5), check::first);
    EXPECT_EQ(l.on_ack(n, 9, 6), check::again) << "a retry's duplicate ack is harmless";
    EXPECT_EQ(l.at(n).acked_us, 5);
    EXPECT_EQ(l.on_delivery(n, 8, 1, true), check::seq_mismatch);
}

TEST(message_ledger, duplicates_and_wrong_conversation) {
    message_ledger l;
    const auto n = l.create(3, 0);
    l.on_ack(n, 1, 1);
    EXPECT_EQ(l.on_delivery(n, 1, 3, false), check::first);
    EXPECT_EQ(l.on_delivery(n, 1, 3, false), check::again);
    EXPECT_EQ(l.on_delivery(n, 1, 3, true), check::first);
    EXPECT_EQ(l.on_delivery(n, 1, 3, true), check::again);
    EXPECT_EQ(l.on_delivery(n, 1, 4, false), check::wrong_conversation);
    EXPECT_EQ(l.on_delivery(99, 1, 3, false), check::unknown);
    EXPECT_EQ(l.on_ack(99, 1, 1), check::unknown);
    EXPECT_EQ(l.tally().duplicated, 2U);
}

TEST(message_ledger, lost_unacked_and_failed) {
    message_ledger l;
    const auto acked_only = l.create(0, 0);
    const auto never_acked = l.create(0, 0);
    const auto refused = l.create(0, 0);
    const auto echo_only = l.create(0, 0);
    l.on_ack(acked_only, 1, 1);
    l.on_failed(refused);
    l.on_ack(echo_only, 2, 1);
    l.on_delivery(echo_only, 2, 0, true);
    const auto t = l.tally();
    EXPECT_EQ(t.generated, 4U);
    EXPECT_EQ(t.acked, 2U);
    EXPECT_EQ(t.unacked, 1U);
    EXPECT_EQ(t.failed, 1U);
    EXPECT_EQ(t.lost, 2U) << "acked, never delivered";
    EXPECT_EQ(t.lost_echo, 1U);
    EXPECT_EQ(l.unsettled(), 3U) << "only the refused one is settled";
    (void)never_acked;
}

TEST(message_ledger, ack_after_retryable_failure_clears_it) {
    message_ledger l;
    const auto n = l.create(0, 0);
    l.on_failed(n);
    EXPECT_EQ(l.unsettled(), 0U);
    EXPECT_EQ(l.on_ack(n, 4, 9), check::first);
    EXPECT_FALSE(l.at(n).failed);
    EXPECT_EQ(l.unsettled(), 1U);
    l.on_failed(n);
    EXPECT_FALSE(l.at(n).failed) << "an acked message cannot fail";
}

TEST(ledger_tally, sums) {
    ledger_tally a;
    a.lost = 1;
    a.acked = 2;
    ledger_tally b;
    b.lost = 3;
    b.duplicated = 4;
    a += b;
    EXPECT_EQ(a.lost, 4U);
    EXPECT_EQ(a.acked, 2U);
    EXPECT_EQ(a.duplicated, 4U);
}

}  // namespace

namespace {

TEST(seq_tracker, without_gapless_only_increase_is_required) {
    confide::loadgen::seq_tracker t(1, false);
    EXPECT_EQ(t.on_seq(2), verdict::in_order);
    EXPECT_EQ(t.on_seq(5), verdict::in_order);
    EXPECT_EQ(t.holes(), 0U) << "own messages are not pushed: skipped seqs are expected";
    EXPECT_EQ(t.on_seq(4), verdict::behind);
    EXPECT_EQ(t.on_seq(5), verdict::behind);
    EXPECT_EQ(t.on_seq(6), verdict::in_order);
}

}  // namespace

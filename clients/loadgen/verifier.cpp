#include "verifier.hpp"

#include <limits>

namespace confide::loadgen {
namespace {

void bump(std::uint16_t& v) noexcept {
    if (v < std::numeric_limits<std::uint16_t>::max()) {
        ++v;
    }
}

}  // namespace

seq_tracker::verdict seq_tracker::on_seq(std::uint64_t seq) {
    if (seq == next_) {
        ++next_;
        return verdict::in_order;
    }
    if (seq > next_ && !gapless_) {
        next_ = seq + 1;
        return verdict::in_order;
    }
    if (seq < next_ && !gapless_) {
        return verdict::behind;
    }
    if (seq > next_) {
        for (std::uint64_t s = next_; s < seq; ++s) {
            if (holes_.size() < max_holes) {
                holes_.insert(s);
            } else {
                overflow_ += seq - s;
                break;
            }
        }
        next_ = seq + 1;
        return verdict::gap;
    }
    if (holes_.erase(seq) > 0) {
        return verdict::reordered;
    }
    return verdict::duplicate;
}

ledger_tally& ledger_tally::operator+=(const ledger_tally& o) noexcept {
    generated += o.generated;
    acked += o.acked;
    failed += o.failed;
    unacked += o.unacked;
    delivered += o.delivered;
    echoed += o.echoed;
    lost += o.lost;
    lost_echo += o.lost_echo;
    duplicated += o.duplicated;
    delivered_unacked += o.delivered_unacked;
    return *this;
}

std::uint64_t message_ledger::create(std::uint32_t conversation, std::int64_t created_us) {
    message_record r;
    r.conversation = conversation;
    r.created_us = created_us;
    records_.push_back(r);
    ++unsettled_;
    return records_.size() - 1;
}

check message_ledger::on_ack(std::uint64_t n, std::uint64_t seq, std::int64_t now_us) {
    if (!contains(n)) {
        return check::unknown;
    }
    auto& r = records_[n];
    if (r.seq != 0 && r.seq != seq) {
        return check::seq_mismatch;
    }
    r.seq = seq;
    if (r.acked_us != 0) {
        return check::again;
    }
    const bool was = is_settled(r);
    // A message refused with a retryable error may still have been stored (unknown outcome).
    r.failed = false;
    r.acked_us = now_us == 0 ? 1 : now_us;
    update(was, r);
    return check::first;
}

check message_ledger::on_delivery(std::uint64_t n, std::uint64_t seq, std::uint32_t conversation,
                                  bool echo) {
    if (!contains(n)) {
        return check::unknown;
    }
    auto& r = records_[n];
    if (r.conversation != conversation) {
        return check::wrong_conversation;
    }
    if (r.seq != 0 && r.seq != seq) {
        return check::seq_mismatch;
    }
    r.seq = seq;
    const bool was = is_settled(r);
    auto& count = echo ? r.echoes : r.deliveries;
    bump(count);
    update(was, r);
    return count == 1 ? check::first : check::again;
}

void message_ledger::on_failed(std::uint64_t n) {
    if (contains(n) && records_[n].acked_us == 0) {
        auto& r = records_[n];
        const bool was = is_settled(r);
        r.failed = true;
        update(was, r);
    }
}

bool message_ledger::is_settled(const message_record& r) const noexcept {
    return r.failed || (r.acked_us != 0 && r.deliveries > 0 && (!expect_echo_ || r.echoes > 0));
}

void message_ledger::update(bool was_settled, const message_record& r) noexcept {
    const bool now = is_settled(r);
    if (was_settled && !now) {
        ++unsettled_;
    } else if (!was_settled && now) {
        --unsettled_;
    }
}

ledger_tally message_ledger::tally() const noexcept {
    ledger_tally t;
    t.generated = records_.size();
    for (const auto& r : records_) {
        const bool acked = r.acked_us != 0;
        if (acked) {
            ++t.acked;
        } else if (r.failed) {
            ++t.failed;
        } else {
            ++t.unacked;
        }
        if (r.deliveries > 0) {
            ++t.delivered;
            t.duplicated += r.deliveries - 1U;
            if (!acked) {
                ++t.delivered_unacked;
            }
        } else if (acked) {
            ++t.lost;
        }
        if (r.echoes > 0) {
            ++t.echoed;
            t.duplicated += r.echoes - 1U;
        } else if (acked) {
            ++t.lost_echo;
        }
    }
    return t;
}

}  // namespace confide::loadgen

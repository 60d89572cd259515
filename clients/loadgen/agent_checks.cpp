// What an agent checks in the frames its core sends and receives (the core's observer): every
// message pushed against its sender's ledger, the order of each conversation's seqs, and the
// counters of the report.

#include "agent.hpp"
#include "message_body.hpp"
#include "shard.hpp"

#include "confide/v1/confide.pb.h"

#include <algorithm>

namespace confide::loadgen {

void agent::on_sending(const v1::Frame& frame) {
    auto& c = shard_.c();
    const std::string* id = nullptr;
    switch (frame.kind_case()) {
        case v1::Frame::kSendMessage:
            id = &frame.send_message().client_msg_id();
            break;
        case v1::Frame::kStartInquiry:
            id = &frame.start_inquiry().client_msg_id();
            break;
        case v1::Frame::kAck:
            counters::add(c.acks_sent);
            return;
        case v1::Frame::kPing:
            counters::add(c.pings_sent);
            return;
        default:
            return;
    }
    counters::add(c.sent);
    if (const auto n = message_number(*id); n && ledger_.contains(*n)) {
        if (++ledger_.at(*n).attempts > 1) {
            counters::add(c.retries);
        }
    }
}

void agent::on_received(const v1::Frame& frame) {
    auto& c = shard_.c();
    switch (frame.kind_case()) {
        case v1::Frame::kAuthenticated:
            if (frame.authenticated().has_limits()) {
                shard_.note_limits(frame.authenticated().limits());
            }
            break;
        case v1::Frame::kError: {
            const auto& e = frame.error();
            counters::add(c.error_replies);
            const auto code = static_cast<std::size_t>(e.code());
            counters::add(c.errors[std::min(code, error_code_slots - 1)]);
            if (e.code() != v1::RATE_LIMITED) {
                shard_.note("error reply: " + v1::ErrorCode_Name(e.code()) + " " + e.message());
            }
            break;
        }
        case v1::Frame::kEvent: {
            const auto& e = frame.event();
            counters::add(c.events);
            if (e.has_message()) {
                check_message(e.message());
            } else if (e.has_conversation()) {
                counters::add(c.conversation_events);
                if (role_ == agent_role::specialist) {
                    if (agent* client = shard_.find_user(e.conversation().client_id())) {
                        learn_conversation(e.conversation().id(), client);
                    }
                }
            }
            break;
        }
        case v1::Frame::kReceipt:
            counters::add(c.receipts);
            break;
        case v1::Frame::kPresence:
            counters::add(c.presence);
            break;
        case v1::Frame::kGoAway:
            shard_.note("go_away " + std::to_string(frame.go_away().close_code()) + ": " +
                        frame.go_away().reason());
            break;
        case v1::Frame::kSent:
            if (!frame.sent().cursor().empty()) {
                // skip_own_echo: the reply stands for the push of our own message's event.
                counters::add(c.echo_replies);
                check_own_event(frame.sent());
            }
            break;
        case v1::Frame::kSynced:
        case v1::Frame::kPong:
        case v1::Frame::kOk:
        case v1::Frame::kTypingPush:
            break;
        default:
            counters::add(c.bad_frames);
            break;
    }
}

void agent::on_malformed() {
    counters::add(shard_.c().bad_frames);
}

void agent::on_stored(const client::detail::outbox_item& item, const std::string& conversation_id,
                      std::uint64_t seq, const v1::SendReply* reply) {
    auto& c = shard_.c();
    const auto n = message_number(item.client_msg_id);
    if (!n || !ledger_.contains(*n)) {
        counters::add(c.bad_frames);
        return;
    }
    if (reply != nullptr) {
        if (!reply->client_msg_id().empty() && reply->client_msg_id() != item.client_msg_id) {
            corrupted("SendReply for another conversation or message");
        }
        if (reply->duplicate()) {
            counters::add(c.acked_duplicate);
        }
    }
    auto& rec = ledger_.at(*n);
    if (role_ == agent_role::client && conversation_id_.empty()) {
        conversation_id_ = conversation_id;
    }
    if (conversation_id != conversation_of(rec.conversation)) {
        corrupted("SendReply for another conversation or message");
    }
    const std::int64_t now = shard_.now_us();
    switch (ledger_.on_ack(*n, seq, now)) {
        case check::first:
            counters::add(c.acked);
            shard_.record_ack(now - rec.created_us);
            break;
        case check::again:
            break;
        case check::seq_mismatch:
        case check::wrong_conversation:
        case check::unknown:
            corrupted("SendReply seq differs from the pushed seq");
            break;
    }
}

void agent::learn_conversation(const std::string& conversation_id, agent* client) {
    if (client->role_ != agent_role::client || client->peer_ != this) {
        counters::add(shard_.c().misrouted);
        shard_.note("a conversation of another specialist was pushed");
        return;
    }
    auto [it, inserted] = conversations_.try_emplace(client->local_, conversation_id);
    if (inserted) {
        rotation_.push_back(client->local_);
    } else if (it->second != conversation_id) {
        corrupted("two conversations for one client/specialist pair");
    }
}

seq_tracker::verdict agent::check_order(const std::string& conversation_id, std::uint64_t seq) {
    auto& c = shard_.c();
    const bool gapless = shard_.opt().expect_echo;
    const auto order = trackers_.try_emplace(conversation_id, 1, gapless).first->second.on_seq(seq);
    switch (order) {
        case seq_tracker::verdict::in_order:
        case seq_tracker::verdict::behind:  // judged by check_delivery, once the ledger says
            break;
        case seq_tracker::verdict::gap:
            counters::add(c.seq_gaps);
            break;
        case seq_tracker::verdict::reordered:
            counters::add(c.reordered);
            break;
        case seq_tracker::verdict::duplicate:
            counters::add(c.seq_duplicates);
            break;
    }
    return order;
}

void agent::check_message(const v1::Message& m) {
    auto& c = shard_.c();
    const auto order = check_order(m.conversation_id(), m.seq());
    agent* sender = shard_.find_user(m.sender_id());
    const auto n = message_number(m.client_msg_id());
    if (sender == nullptr || !n || !sender->ledger_.contains(*n)) {
        counters::add(c.unknown_messages);
        shard_.note("a message this run did not send was pushed");
        return;
    }
    const bool echo = sender == this;
    if (!echo) {
        const bool party = role_ == agent_role::client
                               ? sender == peer_
                               : (sender->role_ == agent_role::client && sender->peer_ == this);
        if (!party) {
            counters::add(c.misrouted);
            shard_.note("a message was pushed to a device that is not a party");
            return;
        }
    }
    if (role_ == agent_role::specialist && sender->role_ == agent_role::client) {
        learn_conversation(m.conversation_id(), sender);
    }
    if (!body_matches(m.body(), sender->index_, *n, shard_.opt().body_bytes)) {
        corrupted("a body arrived corrupted");
    }
    check_delivery(*sender, *n, m.conversation_id(), m.seq(), order);
}

void agent::check_own_event(const v1::SendReply& r) {
    const auto order = check_order(r.conversation_id(), r.seq());
    const auto n = message_number(r.client_msg_id());
    if (!n || !ledger_.contains(*n)) {
        counters::add(shard_.c().unknown_messages);
        shard_.note("a SendReply's cursor names a message this device did not send");
        return;
    }
    check_delivery(*this, *n, r.conversation_id(), r.seq(), order);
}

void agent::check_delivery(agent& sender, std::uint64_t n, const std::string& conversation_id,
                           std::uint64_t seq, seq_tracker::verdict order) {
    auto& c = shard_.c();
    const bool echo = &sender == this;
    const auto& rec = sender.ledger_.at(n);
    agent& client = shard_.at(rec.conversation);
    if (client.conversation_id_.empty()) {
        client.conversation_id_ = conversation_id;
    } else if (client.conversation_id_ != conversation_id) {
        corrupted("a message was pushed in another conversation");
        return;
    }
    const std::int64_t now = shard_.now_us();
    switch (sender.ledger_.on_delivery(n, seq, rec.conversation, echo)) {
        case check::first:
            if (order == seq_tracker::verdict::behind) {
                counters::add(c.reordered);
            }
            if (echo) {
                counters::add(c.echoed);
            } else {
                counters::add(c.delivered);
                shard_.note_delivery(now);
                if (!shard_.opt().backlog) {
                    shard_.record_delivery(now - rec.created_us);
                }
            }
            break;
        case check::again:
            counters::add(c.duplicated);
            break;
        case check::seq_mismatch:
        case check::wrong_conversation:
        case check::unknown:
            corrupted("a pushed message's seq differs from its acked seq");
            break;
    }
}

}  // namespace confide::loadgen

#pragma once
// The requests of an authenticated connection, each answered by exactly one reply or error.

#include "common/asio_types.hpp"
#include "metrics/metrics.hpp"
#include "routing/connection.hpp"
#include "routing/rate_limiter.hpp"
#include "routing/services.hpp"
#include "routing/stream_runner.hpp"

#include "confide/v1/confide.pb.h"

#include <cstdint>

namespace confide::routing {

/// Whether `request` is the person's doing, for the automatic logoff: a send, typing, reading a
/// conversation's history, a conversation's state change, a presence choice, a directory search.
/// Not what clients send by themselves: pings, syncs and acks, and the conversation list and read
/// marks, which clients send when events arrive (an open page would otherwise never log off).
bool is_user_activity(const v1::Frame& request) noexcept;

/// Turns each request of an authenticated connection into calls to the ports and one reply:
/// ping, sync and ack (through the connection's event stream), messages, conversations, read
/// marks, typing, presence, sign-out. Applies the send limit (per user) and the typing limit (per
/// connection); the request limit and authentication are routing::session's.
///
/// Thread safety: none; used on the connection's strand only.
class request_dispatcher {
public:
    /// Every reference outlives the dispatcher. `now` starts the typing limit's bucket.
    request_dispatcher(services& svc, connection& conn, stream_runner& stream, steady_time now);

    /// Handles one validated request (any kind but a first authenticate) and sends its reply.
    /// `frame` stays alive until the awaitable completes. Throws only on a bug.
    awaitable<void> dispatch(const v1::Frame& frame);

private:
    // Each takes the request by reference: dispatch() is awaited while the frame is alive.
    awaitable<void> sync(std::uint64_t rid, const v1::SyncRequest& req);
    awaitable<void> ack(std::uint64_t rid, const v1::AckRequest& req);
    awaitable<void> start_inquiry(std::uint64_t rid, const v1::StartInquiryRequest& req);
    awaitable<void> send_message(std::uint64_t rid, const v1::SendMessageRequest& req);
    awaitable<void> mark_read(std::uint64_t rid, const v1::MarkReadRequest& req);
    awaitable<void> typing(std::uint64_t rid, const v1::TypingRequest& req);
    awaitable<void> set_presence(std::uint64_t rid, const v1::SetPresenceRequest& req);
    awaitable<void> list_conversations(std::uint64_t rid, const v1::ListConversationsRequest& req);
    awaitable<void> get_history(std::uint64_t rid, const v1::GetHistoryRequest& req);
    awaitable<void> update_conversation(std::uint64_t rid,
                                        const v1::UpdateConversationRequest& req);
    awaitable<void> list_specialists(std::uint64_t rid, const v1::ListSpecialistsRequest& req);
    awaitable<void> get_specialist(std::uint64_t rid, const v1::GetSpecialistRequest& req);

    /// The listings of `profiles` at `now`: presence with availability, and the reply time
    /// measured over the last 30 days.
    awaitable<outcome<std::vector<specialist_listing>>> listings(
        std::vector<specialist_profile> profiles, std::int64_t now);
    /// Adds the specialists' availability to the other party's presence of a client's
    /// conversations (best effort: without it if the directory cannot be read now).
    awaitable<void> add_availability(std::vector<conversation>& convs);
    void ping(std::uint64_t rid, const v1::PingRequest& req);
    void sign_out(std::uint64_t rid);

    /// Whether the user may send one more message now; replies RATE_LIMITED if not.
    bool admit_send(std::uint64_t rid);
    // The SendReply; `received` is when the request came (for the ack latency).
    void reply_sent(std::uint64_t rid, const send_result& r, const std::string& client_msg_id,
                    metrics::histogram::time_point received, bool with_safety_notice = false);
    /// Replies `r`'s failure, if it failed; true if it did. A FORBIDDEN one is audited.
    template <class T>
    bool failed(std::uint64_t rid, const outcome<T>& r);
    /// Audits an event of this connection about the request being handled.
    void audit(audit_action action, std::string conversation_id, std::string detail);
    /// Replies FORBIDDEN with `f` and audits the refusal.
    void deny(std::uint64_t rid, const failure& f);
    std::uint32_t page_size(std::uint32_t requested) const noexcept;

    services& svc_;
    connection& conn_;
    stream_runner& stream_;
    token_bucket typing_bucket_;
    const v1::Frame* current_ = nullptr;  // the request being handled, for the audit trail
};

}  // namespace confide::routing

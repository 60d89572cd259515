#pragma once
// The chat domain's metrics (see docs/operations.md for the whole list).

#include "common/error.hpp"
#include "metrics/metrics.hpp"

namespace confide::routing::stats {

extern const metrics::gauge sessions;  ///< authenticated connections open now
extern const metrics::counter authentications;
extern const metrics::counter authentication_refusals;
extern const metrics::counter messages_stored;             ///< "sent" acks of a new message
extern const metrics::counter messages_duplicate;          ///< "sent" acks of a retry
extern const metrics::histogram send_ack_latency;          ///< request received -> SendReply queued
extern const metrics::counter message_events_pushed;       ///< EventPush with a message
extern const metrics::counter conversation_events_pushed;  ///< EventPush with a conversation
extern const metrics::counter live_pushes;                 ///< receipts, presence and typing pushes
extern const metrics::counter device_acks;    ///< acks stored: what senders see as "delivered"
extern const metrics::counter stream_resets;  ///< syncs whose cursor was too old
extern const metrics::counter presence_sweeps;
extern const metrics::counter presence_sweep_failures;
extern const metrics::counter retention_trimmed;  ///< messages deleted by retention, this node

/// Counts an ErrorReply by its code.
void count_error(errc code) noexcept;

}  // namespace confide::routing::stats

#include "routing/routing_metrics.hpp"

#include <array>

namespace confide::routing::stats {
namespace {

metrics::registry& reg() {
    return metrics::registry::global();
}

// In the order of errc (1..9); the names are the wire protocol's (confide.v1.ErrorCode).
constexpr std::array<const char*, 9> error_names{
    "UNAUTHENTICATED", "FORBIDDEN", "INVALID_ARGUMENT",    "TOO_LARGE", "RATE_LIMITED",
    "UNAVAILABLE",     "CONFLICT",  "FAILED_PRECONDITION", "INTERNAL"};

std::array<metrics::counter, error_names.size()> make_errors() {
    std::array<metrics::counter, error_names.size()> out;
    for (std::size_t i = 0; i < error_names.size(); ++i) {
        out[i] =
            reg().add_counter("confide_error_replies_total",
                              "Error replies sent to clients, by code", {{"code", error_names[i]}});
    }
    return out;
}

const auto errors = make_errors();

constexpr const char* pushed_help = "Events pushed to connections (EventPush), by kind";

}  // namespace

const metrics::gauge sessions =
    reg().add_gauge("confide_sessions", "Authenticated connections open now");
const metrics::counter authentications =
    reg().add_counter("confide_authentications_total", "Connections authenticated");
const metrics::counter authentication_refusals = reg().add_counter(
    "confide_authentication_refusals_total",
    "Authentications refused (bad, expired or missing token, role conflict, too many "
    "connections)");
const metrics::counter messages_stored = reg().add_counter(
    "confide_messages_acked_total",
    "Messages stored and acknowledged to their sender (SendReply), by whether the request was a "
    "retry of a message stored before",
    {{"duplicate", "false"}});
const metrics::counter messages_duplicate = reg().add_counter(
    "confide_messages_acked_total",
    "Messages stored and acknowledged to their sender (SendReply), by whether the request was a "
    "retry of a message stored before",
    {{"duplicate", "true"}});
const metrics::histogram send_ack_latency = reg().add_histogram(
    "confide_send_ack_seconds",
    "From a send_message or start_inquiry request to its SendReply (the message is stored)",
    metrics::latency_buckets());
const metrics::counter message_events_pushed =
    reg().add_counter("confide_events_pushed_total", pushed_help, {{"kind", "message"}});
const metrics::counter conversation_events_pushed =
    reg().add_counter("confide_events_pushed_total", pushed_help, {{"kind", "conversation"}});
const metrics::counter live_pushes = reg().add_counter(
    "confide_live_pushes_total", "Receipt, presence and typing pushes sent to connections");
const metrics::counter device_acks = reg().add_counter(
    "confide_device_acks_total",
    "Acks of devices stored: the messages they cover count as delivered for their senders");
const metrics::counter stream_resets =
    reg().add_counter("confide_stream_resets_total",
                      "Syncs from a cursor older than the events still kept (the client reloads)");
const metrics::counter presence_sweeps =
    reg().add_counter("confide_presence_sweeps_total",
                      "Sweeps for users of crashed nodes (every node sweeps every 5 s)");
const metrics::counter presence_sweep_failures =
    reg().add_counter("confide_presence_sweep_failures_total", "Presence sweeps that failed");
const metrics::counter retention_trimmed = reg().add_counter(
    "confide_retention_trimmed_messages_total",
    "Messages deleted by this node's retention sweeps (--retention-days); the sum over the nodes "
    "is every message deleted, each once");

void count_error(errc code) noexcept {
    const auto i = static_cast<std::size_t>(code) - 1;
    if (i < errors.size()) {
        errors[i].inc();
    }
}

}  // namespace confide::routing::stats

#pragma once
// The network layer's metrics (see docs/operations.md for the whole list).

#include "metrics/metrics.hpp"

#include <cstdint>

namespace confide::net::stats {

extern const metrics::counter connections_accepted;
extern const metrics::counter connections_refused;  ///< over --max-connections
extern const metrics::gauge websocket_sessions;     ///< open WebSocket connections
extern const metrics::counter frames_received;
extern const metrics::counter bytes_received;  ///< WebSocket payload bytes
extern const metrics::counter frames_sent;
extern const metrics::counter bytes_sent;
extern const metrics::counter outbound_overflows;  ///< closed with 4003: queue over its bound
extern const metrics::counter tls_handshake_failures;

/// Who ended a WebSocket connection.
enum class closed_by { server, client, nobody };

/// Counts the end of a WebSocket connection: by the server with `code`, by the client with
/// `code`, or by nobody (dropped, timed out: counted as 1006).
void count_close(closed_by who, std::uint16_t code) noexcept;

/// What an HTTP request asked for.
enum class endpoint_kind { healthz, readyz, metrics, web, websocket, other };

void count_request(endpoint_kind e) noexcept;

}  // namespace confide::net::stats

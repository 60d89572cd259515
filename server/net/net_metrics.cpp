#include "net/net_metrics.hpp"

#include <array>
#include <string>

namespace confide::net::stats {
namespace {

metrics::registry& reg() {
    return metrics::registry::global();
}

constexpr const char* closes_help =
    "WebSocket connections ended, by who closed them (server, client, or nobody: dropped) and "
    "the close code";

// The codes the server sends (see routing/outbound.hpp), in a fixed order.
constexpr std::array<std::uint16_t, 10> server_codes{1000, 1001, 1008, 1009, 1011,
                                                     4001, 4002, 4003, 4004, 4005};

std::array<metrics::counter, server_codes.size() + 1> make_server_closes() {
    std::array<metrics::counter, server_codes.size() + 1> out;
    for (std::size_t i = 0; i < server_codes.size(); ++i) {
        out[i] = reg().add_counter("confide_websocket_closes_total", closes_help,
                                   {{"by", "server"}, {"code", std::to_string(server_codes[i])}});
    }
    out.back() = reg().add_counter("confide_websocket_closes_total", closes_help,
                                   {{"by", "server"}, {"code", "other"}});
    return out;
}

const auto server_closes = make_server_closes();
const metrics::counter client_close_normal = reg().add_counter(
    "confide_websocket_closes_total", closes_help, {{"by", "client"}, {"code", "1000"}});
const metrics::counter client_close_away = reg().add_counter(
    "confide_websocket_closes_total", closes_help, {{"by", "client"}, {"code", "1001"}});
const metrics::counter client_close_other = reg().add_counter(
    "confide_websocket_closes_total", closes_help, {{"by", "client"}, {"code", "other"}});
const metrics::counter dropped = reg().add_counter("confide_websocket_closes_total", closes_help,
                                                   {{"by", "nobody"}, {"code", "1006"}});

constexpr const char* requests_help = "HTTP requests received, by what they asked for";

metrics::counter request_counter(const char* endpoint) {
    return reg().add_counter("confide_http_requests_total", requests_help,
                             {{"endpoint", endpoint}});
}

const std::array<metrics::counter, 6> requests{
    request_counter("healthz"), request_counter("readyz"),    request_counter("metrics"),
    request_counter("web"),     request_counter("websocket"), request_counter("other")};

}  // namespace

const metrics::counter connections_accepted =
    reg().add_counter("confide_connections_accepted_total", "TCP connections accepted");
const metrics::counter connections_refused =
    reg().add_counter("confide_connections_refused_total",
                      "TCP connections closed at once because --max-connections were held");
const metrics::gauge websocket_sessions =
    reg().add_gauge("confide_websocket_connections", "WebSocket connections open now");
const metrics::counter frames_received =
    reg().add_counter("confide_frames_received_total", "WebSocket messages received from clients");
const metrics::counter bytes_received = reg().add_counter(
    "confide_received_bytes_total", "Payload bytes of the WebSocket messages received");
const metrics::counter frames_sent =
    reg().add_counter("confide_frames_sent_total", "WebSocket messages sent to clients");
const metrics::counter bytes_sent =
    reg().add_counter("confide_sent_bytes_total", "Payload bytes of the WebSocket messages sent");
const metrics::counter outbound_overflows = reg().add_counter(
    "confide_outbound_overflows_total",
    "Connections closed with 4003 because their outgoing queue went over --max-outbound-bytes");
const metrics::counter tls_handshake_failures = reg().add_counter(
    "confide_tls_handshake_failures_total",
    "TLS handshakes that failed or timed out (old protocol versions, scanners, plain HTTP)");

void count_close(closed_by who, std::uint16_t code) noexcept {
    switch (who) {
        case closed_by::server:
            for (std::size_t i = 0; i < server_codes.size(); ++i) {
                if (server_codes[i] == code) {
                    server_closes[i].inc();
                    return;
                }
            }
            server_closes.back().inc();
            return;
        case closed_by::client:
            (code == 1000   ? client_close_normal
             : code == 1001 ? client_close_away
                            : client_close_other)
                .inc();
            return;
        case closed_by::nobody:
            dropped.inc();
            return;
    }
}

void count_request(endpoint_kind e) noexcept {
    requests[static_cast<std::size_t>(e)].inc();
}

}  // namespace confide::net::stats

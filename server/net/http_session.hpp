#pragma once

#include "net/connection_registry.hpp"
#include "net/session_context.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>

namespace confide::net {

/// Runs the HTTP phase of a newly accepted connection on `socket`'s executor (a strand). With
/// session_options::tls set, a TLS handshake comes first (within handshake_timeout; a failure
/// closes the connection). Then it reads a request within handshake_timeout and
/// max_header_bytes, and answers:
///  - `GET /healthz` (no upgrade): 200 "ok": the process lives (liveness);
///  - `GET /readyz`: 200 "ready" when session_options::ready says so, else 503 with the reason
///    (readiness, for load balancers);
///  - `GET /metrics`: session_options::metrics_text (Prometheus text format), 404 without one;
///  - `token=` or `access_token=` in the query: 400 (tokens are never accepted in URLs);
///  - a WebSocket upgrade (any path) from an allowed Origin: handed to start_websocket_session()
///    with the `Authorization: Bearer` token, if any, in connection_info;
///  - an upgrade from another Origin: 403;
///  - `GET`/`HEAD` of a file of session_options::web_files (`/` is index.html): the file with its
///    content type, ETag (304 for a matching If-None-Match), Cache-Control and the security
///    headers (Content-Security-Policy, nosniff, no framing); another method: 405;
///  - anything else: 400 (`/` when no web client is served) or 404.
/// A file answer keeps the connection for the next request (HTTP keep-alive, up to 100
/// requests, each within handshake_timeout); every other answer closes it.
///
/// `connection_id` names the connection in every log line; `slot` is its registry place.
void start_http_session(asio::ip::tcp::socket socket, std::string connection_id,
                        connection_registry::slot slot, std::shared_ptr<const session_context> ctx);

}  // namespace confide::net

#pragma once
// The HTTP phase, a template over its stream (beast::tcp_stream or tls_stream). Included only
// by http_session.cpp and http_session_tls.cpp, which compile one each.

#include "common/asio_types.hpp"
#include "common/log.hpp"
#include "net/http_session.hpp"
#include "net/net_errors.hpp"
#include "net/net_metrics.hpp"
#include "net/websocket_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace confide::net::detail {

namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

/// "ip:port" of the peer, or "unknown".
std::string remote_address_of(const tcp::socket& socket);

/// Whether the query string names a token parameter (token=, access_token=).
bool has_token_parameter(std::string_view query);

/// The token of "Bearer <token>" (the scheme is case-insensitive); empty for anything else.
std::string bearer_token(std::string_view value);

template <class Stream>
class http_session final : public drainable,
                           public std::enable_shared_from_this<http_session<Stream>> {
public:
    static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

    // `tls` is the context a TLS `stream` was made with (null for plain TCP).
    http_session(Stream stream, std::shared_ptr<asio::ssl::context> tls, std::string remote,
                 std::string connection_id, connection_registry::slot slot,
                 std::shared_ptr<const session_context> ctx)
        : strand_(stream.get_executor()),
          remote_(std::move(remote)),
          tls_(std::move(tls)),
          stream_(std::move(stream)),
          id_(std::move(connection_id)),
          slot_(std::move(slot)),
          ctx_(std::move(ctx)) {}

    awaitable<void> run();

    // A connection still in its HTTP phase has nothing to say goodbye with: both just close.
    void go_away() override { abort(); }
    void abort() override {
        asio::post(strand_, [self = this->shared_from_this()] {
            if (!self->handed_off_) {
                beast::get_lowest_layer(self->stream_).close();
            }
        });
    }

private:
    using request = http::request<http::empty_body>;

    awaitable<bool> handshake();
    // A plain-text answer that ends the connection; `allow` fills the Allow header of a 405.
    awaitable<void> respond(unsigned version, http::status status, std::string body,
                            std::string_view allow = {},
                            std::string_view content_type = "text/plain; charset=utf-8");
    // Answers a GET or HEAD for a file of the web client; true when the connection may carry
    // another request.
    awaitable<bool> serve_file(const request& req, const static_file& file, bool keep_alive);
    // The end of a connection we answered: no more bytes from us (a TLS close_notify first).
    awaitable<void> finish();
    void set_security_headers(http::fields& fields) const;
    bool origin_allowed(const request& req) const;
    void hand_off(upgrade_request upgrade, routing::connection_info info);

    // Requests served on one keep-alive connection at most (a page and its few files).
    static constexpr unsigned max_requests = 100;

    const executor strand_;  // copied so that other threads never touch stream_
    std::string remote_;
    std::shared_ptr<asio::ssl::context> tls_;
    Stream stream_;
    beast::flat_buffer buffer_;
    std::string id_;
    connection_registry::slot slot_;
    std::shared_ptr<const session_context> ctx_;
    bool handed_off_ = false;  // stream_ moved to the WebSocket session
};

template <class Stream>
bool http_session<Stream>::origin_allowed(const request& req) const {
    const auto& opts = ctx_->options;
    auto it = req.find(http::field::origin);
    // Cross-site WebSocket hijacking needs a browser, and browsers always send Origin: a request
    // without one comes from another kind of client and is not this check's business.
    if (it == req.end() || (opts.allowed_origins.empty() && !opts.web_files)) {
        return true;
    }
    const std::string_view origin = it->value();
    if (opts.web_files) {
        // The page we served connects back to where it came from: its Origin names the host the
        // browser asked us for. Another site's page carries its own origin and fails this.
        const auto scheme_end = origin.find("://");
        const auto host = req.find(http::field::host);
        if (scheme_end != std::string_view::npos && host != req.end() && !host->value().empty() &&
            beast::iequals(origin.substr(scheme_end + 3), host->value())) {
            return true;
        }
    }
    for (const auto& allowed : opts.allowed_origins) {
        if (beast::iequals(allowed, origin)) {
            return true;
        }
    }
    return false;
}

template <class Stream>
awaitable<bool> http_session<Stream>::handshake() {
    if constexpr (is_tls) {
        beast::get_lowest_layer(stream_).expires_after(ctx_->options.handshake_timeout);
        auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, use_nothrow);
        if (ec) {
            // Scanners, plain HTTP on the TLS port and clients offering only TLS 1.0/1.1 end
            // here: not worth more than a debug line, but counted.
            stats::tls_handshake_failures.inc();
            log::debug("conn {}: TLS handshake with {} failed: {}", id_, remote_, ec.message());
            beast::get_lowest_layer(stream_).close();
            co_return false;
        }
    }
    co_return true;
}

template <class Stream>
awaitable<void> http_session<Stream>::run() {
    slot_.attach(this->weak_from_this());
    const auto& opts = ctx_->options;
    if (!co_await handshake()) {
        co_return;
    }

    // Keep-alive serves a page and its files on one connection; each request gets the
    // handshake deadline anew, which doubles as the idle timeout between requests.
    for (unsigned served = 0;; ++served) {
        beast::get_lowest_layer(stream_).expires_after(opts.handshake_timeout);
        http::request_parser<http::empty_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
        auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, use_nothrow);
        if (ec) {
            if (ec == http::error::header_limit) {
                log::info("conn {}: request head over {} bytes: refused", id_,
                          opts.max_header_bytes);
                co_await respond(11, http::status::request_header_fields_too_large,
                                 "request head too large\n");
            } else if (ec == http::error::unexpected_body || ec == http::error::body_limit) {
                co_await respond(11, http::status::bad_request,
                                 "request bodies are not accepted\n");
            } else if (ec == beast::error::timeout) {
                if (served == 0) {
                    log::debug("conn {}: no complete HTTP request within {} ms: closed", id_,
                               opts.handshake_timeout.count());
                }
            } else if (is_expected_end(ec) || ec == http::error::partial_message ||
                       (served > 0 && ec == http::error::end_of_stream)) {
                log::debug("conn {}: closed before a complete request: {}", id_, ec.message());
            } else {
                log::debug("conn {}: malformed HTTP request: {}", id_, ec.message());
                co_await respond(11, http::status::bad_request, "malformed HTTP request\n");
            }
            co_return;
        }

        auto& req = parser.get();
        const std::string_view target = req.target();
        const auto question = target.find('?');
        const auto path = target.substr(0, question);
        const auto query =
            question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

        // The query is never logged: it may hold what we refuse to receive.
        if (has_token_parameter(query)) {
            log::info("conn {}: refused: token in the URL", id_);
            stats::count_request(stats::endpoint_kind::other);
            co_await respond(req.version(), http::status::bad_request,
                             "access tokens are not accepted in the URL: send them in an "
                             "\"Authorization: Bearer\" header or in the authenticate frame\n");
            co_return;
        }

        if (beast::websocket::is_upgrade(req)) {
            stats::count_request(stats::endpoint_kind::websocket);
            if (!origin_allowed(req)) {
                log::info("conn {}: refused: origin '{}' not allowed", id_,
                          std::string_view(req[http::field::origin]).substr(0, 200));
                co_await respond(req.version(), http::status::forbidden, "origin not allowed\n");
                co_return;
            }
            routing::connection_info info{id_, remote_, {}};
            upgrade_request upgrade{req.version(), std::string(target), {}};
            for (const auto& field : req) {
                if (field.name() == http::field::authorization) {
                    info.bearer_token = bearer_token(field.value());
                    continue;
                }
                upgrade.fields.emplace_back(std::string(field.name_string()),
                                            std::string(field.value()));
            }
            log::debug("conn {}: upgrade to WebSocket on {} from {}{}", id_, path.substr(0, 200),
                       remote_, info.bearer_token.empty() ? "" : " with a bearer token");
            hand_off(std::move(upgrade), std::move(info));
            co_return;
        }

        if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
            if (req.method() != http::verb::get) {
                stats::count_request(stats::endpoint_kind::other);
                co_await respond(req.version(), http::status::bad_request, "use GET\n");
            } else if (path == "/healthz") {
                stats::count_request(stats::endpoint_kind::healthz);
                co_await respond(req.version(), http::status::ok, "ok");
            } else if (path == "/readyz") {
                stats::count_request(stats::endpoint_kind::readyz);
                const auto r = opts.ready ? opts.ready() : readiness{};
                if (r.ready) {
                    co_await respond(req.version(), http::status::ok, "ready\n");
                } else {
                    co_await respond(req.version(), http::status::service_unavailable,
                                     "not ready: " + r.reason + "\n");
                }
            } else if (opts.metrics_text) {
                stats::count_request(stats::endpoint_kind::metrics);
                co_await respond(req.version(), http::status::ok, opts.metrics_text(), {},
                                 "text/plain; version=0.0.4; charset=utf-8");
            } else {
                stats::count_request(stats::endpoint_kind::other);
                co_await respond(req.version(), http::status::not_found, "not found\n");
            }
            co_return;
        }
        const static_file* file = opts.web_files ? opts.web_files->find(path) : nullptr;
        if (file != nullptr) {
            stats::count_request(stats::endpoint_kind::web);
            if (req.method() != http::verb::get && req.method() != http::verb::head) {
                co_await respond(req.version(), http::status::method_not_allowed,
                                 "use GET or HEAD\n", "GET, HEAD");
                co_return;
            }
            if (!co_await serve_file(req, *file, req.keep_alive() && served + 1 < max_requests)) {
                co_return;
            }
            continue;
        }
        stats::count_request(stats::endpoint_kind::other);
        if (path == "/" && !opts.web_files) {
            co_await respond(req.version(), http::status::bad_request,
                             "this endpoint speaks WebSocket only: send an upgrade request\n");
        } else {
            co_await respond(req.version(), http::status::not_found, "not found\n");
        }
        co_return;
    }
}

template <class Stream>
void http_session<Stream>::hand_off(upgrade_request upgrade, routing::connection_info info) {
    // The WebSocket stream keeps its own deadlines from here on. Bytes read past the request (if
    // any) are dropped: a client must wait for the 101 before sending frames (RFC 6455 4.1),
    // and Beast's accept takes a parsed request without them.
    beast::get_lowest_layer(stream_).expires_never();
    handed_off_ = true;
    if constexpr (is_tls) {
        start_websocket_session(std::move(stream_), std::move(tls_), std::move(upgrade),
                                std::move(info), std::move(slot_), ctx_);
    } else {
        start_websocket_session(stream_.release_socket(), std::move(upgrade), std::move(info),
                                std::move(slot_), ctx_);
    }
}

template <class Stream>
void http_session<Stream>::set_security_headers(http::fields& fields) const {
    fields.set(http::field::server, ctx_->options.server_name);
    fields.set("X-Content-Type-Options", "nosniff");
    fields.set("Content-Security-Policy", content_security_policy);
    fields.set("Referrer-Policy", "no-referrer");
    fields.set("Cross-Origin-Opener-Policy", "same-origin");
    fields.set("Cross-Origin-Resource-Policy", "same-origin");
    fields.set("X-Frame-Options", "DENY");
    fields.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    if constexpr (is_tls) {
        // Served over TLS: browsers should never fall back to plain HTTP for this host.
        fields.set(http::field::strict_transport_security, "max-age=31536000");
    }
}

template <class Stream>
awaitable<bool> http_session<Stream>::serve_file(const request& req, const static_file& file,
                                                 bool keep_alive) {
    const auto if_none_match = req[http::field::if_none_match];
    const bool not_modified =
        !if_none_match.empty() &&
        (if_none_match == "*" || if_none_match.find(file.etag) != std::string_view::npos);
    // HEAD and 304 carry the headers of the file but no body.
    http::response<http::span_body<const char>> res{
        not_modified ? http::status::not_modified : http::status::ok, req.version()};
    set_security_headers(res.base());
    res.set(http::field::content_type, file.content_type);
    res.set(http::field::cache_control, file.cache_control);
    res.set(http::field::etag, file.etag);
    res.keep_alive(keep_alive);
    if (not_modified) {
        res.body() = {};
    } else if (req.method() == http::verb::head) {
        res.body() = {};
        res.content_length(file.body.size());
    } else {
        res.body() = {file.body.data(), file.body.size()};
        res.prepare_payload();
    }
    http::response_serializer<http::span_body<const char>> sr{res};
    if (req.method() == http::verb::head || not_modified) {
        sr.split(true);
        auto [ec, n] = co_await http::async_write_header(stream_, sr, use_nothrow);
        if (ec) {
            co_return false;
        }
    } else {
        auto [ec, n] = co_await http::async_write(stream_, sr, use_nothrow);
        if (ec) {
            co_return false;
        }
    }
    if (!keep_alive) {
        co_await finish();
    }
    co_return keep_alive;
}

template <class Stream>
awaitable<void> http_session<Stream>::respond(unsigned version, http::status status,
                                              std::string body, std::string_view allow,
                                              std::string_view content_type) {
    http::response<http::string_body> res{status, version};
    set_security_headers(res.base());
    if (!allow.empty()) {
        res.set(http::field::allow, allow);
    }
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    // A swap rather than a move: clang-tidy 14 takes the coroutine frame's destruction of a
    // moved-from parameter for a use after the move.
    res.body().swap(body);
    res.prepare_payload();
    // Still bounded by the deadline set for the request.
    auto [ec, n] = co_await http::async_write(stream_, res, use_nothrow);
    if (ec && !is_expected_end(ec)) {
        log::debug("conn {}: could not send the HTTP response: {}", id_, ec.message());
    }
    co_await finish();
}

template <class Stream>
awaitable<void> http_session<Stream>::finish() {
    auto& lowest = beast::get_lowest_layer(stream_);
    if constexpr (is_tls) {
        // close_notify, and the peer's (bounded: a peer that never answers costs close_timeout).
        lowest.expires_after(ctx_->options.close_timeout);
        // A peer that does not answer, or answers badly, changes nothing: the socket closes.
        [[maybe_unused]] auto [ec] = co_await stream_.async_shutdown(use_nothrow);
        lowest.close();
    } else {
        boost::system::error_code ignored;
        lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
}

/// Runs the HTTP phase on `stream`.
template <class Stream>
void spawn_http_session(Stream stream, std::shared_ptr<asio::ssl::context> tls, std::string remote,
                        std::string connection_id, connection_registry::slot slot,
                        std::shared_ptr<const session_context> ctx) {
    auto ex = stream.get_executor();
    auto session = std::make_shared<http_session<Stream>>(
        std::move(stream), std::move(tls), std::move(remote), std::move(connection_id),
        std::move(slot), std::move(ctx));
    asio::co_spawn(
        ex, [session] { return session->run(); }, log_exception{"http_session"});
}

/// The TLS variant of start_http_session (http_session_tls.cpp).
void start_tls_http_session(tcp::socket socket, std::string connection_id,
                            connection_registry::slot slot,
                            std::shared_ptr<const session_context> ctx);

}  // namespace confide::net::detail

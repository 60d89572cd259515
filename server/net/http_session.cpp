#include "net/http_session.hpp"

#include "common/asio_types.hpp"
#include "common/log.hpp"
#include "net/net_errors.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <cstdint>
#include <string_view>

namespace confide::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

std::string remote_address_of(const tcp::socket& socket) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) {
        return "unknown";
    }
    return endpoint{ep.address().to_string(), ep.port()}.to_string();
}

// Whether the query string names a token parameter. Tokens in URLs end up in proxy and access
// logs, so they are refused outright rather than ignored: the client learns at once.
bool has_token_parameter(std::string_view query) {
    while (!query.empty()) {
        auto amp = query.find('&');
        auto param = query.substr(0, amp);
        auto name = param.substr(0, param.find('='));
        if (beast::iequals(name, "token") || beast::iequals(name, "access_token")) {
            return true;
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return false;
}

// "Bearer <token>" (the scheme is case-insensitive, RFC 7235); anything else: no token.
std::string bearer_token(std::string_view value) {
    constexpr std::string_view scheme = "bearer ";
    if (value.size() <= scheme.size() || !beast::iequals(value.substr(0, scheme.size()), scheme)) {
        return {};
    }
    value.remove_prefix(scheme.size());
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
    }
    return std::string(value);
}

class http_session final : public drainable, public std::enable_shared_from_this<http_session> {
public:
    http_session(tcp::socket socket, std::string connection_id, connection_registry::slot slot,
                 std::shared_ptr<const session_context> ctx)
        : strand_(socket.get_executor()),
          remote_(remote_address_of(socket)),
          stream_(std::move(socket)),
          id_(std::move(connection_id)),
          slot_(std::move(slot)),
          ctx_(std::move(ctx)) {}

    awaitable<void> run();

    // A connection still in its HTTP phase has nothing to say goodbye with: both just close.
    void go_away() override { abort(); }
    void abort() override {
        asio::post(strand_, [self = shared_from_this()] { self->stream_.close(); });
    }

private:
    using request = http::request<http::empty_body>;

    // A plain-text answer that ends the connection; `allow` fills the Allow header of a 405.
    awaitable<void> respond(unsigned version, http::status status, std::string_view body,
                            std::string_view allow = {});
    // Answers a GET or HEAD for a file of the web client; true when the connection may carry
    // another request.
    awaitable<bool> serve_file(const request& req, const static_file& file, bool keep_alive);
    void set_security_headers(http::fields& fields) const;

    // Requests served on one keep-alive connection at most (a page and its few files).
    static constexpr unsigned max_requests = 100;
    bool origin_allowed(const request& req) const;

    const executor strand_;  // copied so that other threads never touch stream_
    std::string remote_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::string id_;
    connection_registry::slot slot_;
    std::shared_ptr<const session_context> ctx_;
};

bool http_session::origin_allowed(const request& req) const {
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

awaitable<void> http_session::run() {
    slot_.attach(weak_from_this());
    const auto& opts = ctx_->options;

    // Keep-alive serves a page and its files on one connection; each request gets the
    // handshake deadline anew, which doubles as the idle timeout between requests.
    for (unsigned served = 0;; ++served) {
        stream_.expires_after(opts.handshake_timeout);
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
            co_await respond(req.version(), http::status::bad_request,
                             "access tokens are not accepted in the URL: send them in an "
                             "\"Authorization: Bearer\" header or in the authenticate frame\n");
            co_return;
        }

        if (beast::websocket::is_upgrade(req)) {
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
            // The WebSocket stream keeps its own deadlines from here on. Bytes read past the
            // request (if any) are dropped: a client must wait for the 101 before sending frames
            // (RFC 6455 4.1), and Beast's accept takes a parsed request without them.
            stream_.expires_never();
            start_websocket_session(stream_.release_socket(), std::move(upgrade), std::move(info),
                                    std::move(slot_), ctx_);
            co_return;
        }

        if (path == "/healthz") {
            if (req.method() == http::verb::get) {
                co_await respond(req.version(), http::status::ok, "ok");
            } else {
                co_await respond(req.version(), http::status::bad_request, "use GET\n");
            }
            co_return;
        }
        const static_file* file = opts.web_files ? opts.web_files->find(path) : nullptr;
        if (file != nullptr) {
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
        if (path == "/" && !opts.web_files) {
            co_await respond(req.version(), http::status::bad_request,
                             "this endpoint speaks WebSocket only: send an upgrade request\n");
        } else {
            co_await respond(req.version(), http::status::not_found, "not found\n");
        }
        co_return;
    }
}

void http_session::set_security_headers(http::fields& fields) const {
    fields.set(http::field::server, ctx_->options.server_name);
    fields.set("X-Content-Type-Options", "nosniff");
    fields.set("Content-Security-Policy", content_security_policy);
    fields.set("Referrer-Policy", "no-referrer");
    fields.set("Cross-Origin-Opener-Policy", "same-origin");
    fields.set("Cross-Origin-Resource-Policy", "same-origin");
    fields.set("X-Frame-Options", "DENY");
    fields.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

awaitable<bool> http_session::serve_file(const request& req, const static_file& file,
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
        boost::system::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    co_return keep_alive;
}

awaitable<void> http_session::respond(unsigned version, http::status status, std::string_view body,
                                      std::string_view allow) {
    http::response<http::string_body> res{status, version};
    set_security_headers(res.base());
    if (!allow.empty()) {
        res.set(http::field::allow, allow);
    }
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    res.body() = std::string(body);
    res.prepare_payload();
    // Still bounded by the deadline set for the request.
    auto [ec, n] = co_await http::async_write(stream_, res, use_nothrow);
    if (ec && !is_expected_end(ec)) {
        log::debug("conn {}: could not send the HTTP response: {}", id_, ec.message());
    }
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

void start_http_session(tcp::socket socket, std::string connection_id,
                        connection_registry::slot slot,
                        std::shared_ptr<const session_context> ctx) {
    auto ex = socket.get_executor();
    auto session = std::make_shared<http_session>(std::move(socket), std::move(connection_id),
                                                  std::move(slot), std::move(ctx));
    asio::co_spawn(
        ex, [session] { return session->run(); }, log_exception{"http_session"});
}

}  // namespace confide::net

#include "confide/ws/tls.hpp"
#include "connection_impl.hpp"
#include "tls_connection.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/verify_context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <stdexcept>

namespace confide::ws {

class tls_context {
public:
    explicit tls_context(const std::string& ca_file) {
        // TLS 1.3 when the server offers it; nothing older than 1.2.
        if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
            throw std::runtime_error("TLS: cannot set the minimum version to 1.2");
        }
        ctx.set_verify_mode(boost::asio::ssl::verify_peer);
        boost::system::error_code ec;
        if (ca_file.empty()) {
            ctx.set_default_verify_paths(ec);
            if (ec) {
                throw std::runtime_error("TLS: cannot load the system's CA certificates: " +
                                         ec.message());
            }
        } else {
            ctx.load_verify_file(ca_file, ec);
            if (ec) {
                throw std::runtime_error("TLS: cannot read CA file " + ca_file + ": " +
                                         ec.message());
            }
        }
    }

    boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_client};
};

std::shared_ptr<tls_context> make_tls_context(const std::string& ca_file) {
    return std::make_shared<tls_context>(ca_file);
}

namespace detail {
namespace {

using tls_stream = beast::ssl_stream<tcp::socket>;

// wss://: SNI, the server's certificate checked against the context's CAs and `host`, then the
// TLS handshake (bounded by the open deadline: it closes the socket).
struct secure {
    // The stream and the options belong to the connection, which its coroutine keeps alive.
    static awaitable<std::optional<secure_failure>> handshake(tls_stream& stream,
                                                              const connect_options& options) {
        SSL* ssl = stream.native_handle();
        error_code ec;
        asio::ip::make_address(options.host, ec);
        // SNI names hosts only (RFC 6066): an IP address is not sent.
        if (ec && SSL_set_tlsext_host_name(ssl, options.host.c_str()) != 1) {
            co_return secure_failure{"TLS: cannot set the server name " + options.host};
        }
        stream.set_verify_callback(
            [check = asio::ssl::host_name_verification(options.host)](
                bool preverified, asio::ssl::verify_context& ctx) {
                const bool ok = check(preverified, ctx);
                // Asio's check says no without an OpenSSL error: name the failure, so that the
                // verify result tells a wrong name apart from an unknown CA.
                if (preverified && !ok) {
                    X509_STORE_CTX_set_error(ctx.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
                }
                return ok;
            },
            ec);
        if (ec) {
            co_return secure_failure{"TLS: " + ec.message()};
        }
        auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
        if (!hec) {
            co_return std::nullopt;
        }
        if (const auto verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
            co_return secure_failure{std::string("TLS certificate not trusted: ") +
                                         X509_verify_cert_error_string(verify) + " (" +
                                         options.host + ")",
                                     true};
        }
        co_return secure_failure{"TLS handshake: " + hec.message()};
    }
};

}  // namespace

std::shared_ptr<connection> open_tls(const asio::any_io_executor& executor,
                                     const connect_options& options, events& events,
                                     std::uint64_t id, std::optional<asio::ip::address> source) {
    auto c = std::make_shared<connection_impl<tls_stream, secure>>(
        executor, options, events, id, std::move(source), options.tls->ctx);
    c->start();
    return c;
}

}  // namespace detail
}  // namespace confide::ws

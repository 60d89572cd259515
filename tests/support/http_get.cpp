#include "support/http_get.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace confide::test {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

void parse(const std::string& raw, http_reply& r) {
    const auto head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
        r.error = "not an HTTP response: " + raw.substr(0, 100);
        return;
    }
    r.status = std::stoi(raw.substr(9, 3));
    const auto first_line = raw.find("\r\n");
    r.headers = raw.substr(first_line + 2, head_end - first_line - 2);
    r.body = raw.substr(head_end + 4);
}

// Runs `start` (which starts async operations on `ioc`) until they are done or the time is up.
template <class Socket>
void exchange(asio::io_context& ioc, Socket& stream, const std::string& request, std::string& raw,
              std::string& error, std::chrono::milliseconds timeout) {
    asio::async_write(
        stream, asio::buffer(request), [&](boost::system::error_code ec, std::size_t) {
            if (ec) {
                error = "write: " + ec.message();
                return;
            }
            asio::async_read(
                stream, asio::dynamic_buffer(raw), [&](boost::system::error_code rec, std::size_t) {
                    // The end of the stream is how the answer ends (Connection: close);
                    // over TLS a peer that closes without close_notify ends it too.
                    if (rec && rec != asio::error::eof && rec != ssl::error::stream_truncated) {
                        error = "read: " + rec.message();
                    }
                });
        });
    ioc.run_for(timeout);
    if (!ioc.stopped()) {
        error = "timeout";
    }
}

}  // namespace

std::string http_reply::header(const std::string& name) const {
    auto lower = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return s;
    };
    const auto want = lower(name) + ":";
    std::size_t pos = 0;
    while (pos < headers.size()) {
        auto end = headers.find("\r\n", pos);
        if (end == std::string::npos) {
            end = headers.size();
        }
        const auto line = headers.substr(pos, end - pos);
        if (lower(line.substr(0, want.size())) == want) {
            auto v = line.substr(want.size());
            v.erase(0, v.find_first_not_of(' '));
            return v;
        }
        pos = end + 2;
    }
    return {};
}

http_reply http_get(const http_request& req) {
    http_reply r;
    asio::io_context ioc;
    const std::string request = "GET " + req.target + " HTTP/1.1\r\nHost: " + req.host + ":" +
                                std::to_string(req.port) + "\r\nConnection: close\r\n\r\n";
    tcp::socket socket(ioc);
    boost::system::error_code ec;
    socket.connect(tcp::endpoint(asio::ip::make_address(req.host), req.port), ec);
    if (ec) {
        r.error = "connect: " + ec.message();
        return r;
    }
    std::string raw;
    if (req.ca_file.empty()) {
        exchange(ioc, socket, request, raw, r.error, req.timeout);
    } else {
        ssl::context ctx(ssl::context::tls_client);
        ctx.load_verify_file(req.ca_file, ec);
        if (ec) {
            r.error = "CA file: " + ec.message();
            return r;
        }
        ctx.set_verify_mode(ssl::verify_peer);
        ssl::stream<tcp::socket&> stream(socket, ctx);
        SSL_set_tlsext_host_name(stream.native_handle(), req.server_name.c_str());
        stream.set_verify_callback(ssl::host_name_verification(req.server_name));
        stream.handshake(ssl::stream_base::client, ec);
        if (ec) {
            r.error = "TLS handshake: " + ec.message();
            return r;
        }
        r.tls_version = SSL_get_version(stream.native_handle());
        exchange(ioc, stream, request, raw, r.error, req.timeout);
    }
    if (r.error.empty() || !raw.empty()) {
        parse(raw, r);
    }
    return r;
}

}  // namespace confide::test

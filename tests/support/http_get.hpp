#pragma once
// A blocking HTTP/1.1 GET for tests, over plain TCP or TLS (verifying the server's certificate
// against a CA file), bounded by a timeout.

#include <chrono>
#include <cstdint>
#include <string>

namespace confide::test {

struct http_request {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string target = "/";
    /// TLS when set: the server's certificate must chain to this CA and name `server_name`.
    std::string ca_file;
    std::string server_name = "localhost";
    std::chrono::milliseconds timeout{5000};
};

struct http_reply {
    int status = 0;       ///< 0: no answer (see error)
    std::string headers;  ///< the raw header block, lines separated by "\r\n"
    std::string body;
    std::string error;
    std::string tls_version;  ///< "TLSv1.3", ... for TLS

    /// The value of header `name` (case-insensitive), or empty.
    std::string header(const std::string& name) const;
};

/// GET request.target with `Connection: close`; reads until the server closes.
http_reply http_get(const http_request& request);

}  // namespace confide::test

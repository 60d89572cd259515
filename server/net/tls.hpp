#pragma once
// TLS for the listener: the certificate and key, loaded from PEM files and reloadable. Asio's
// SSL context only (no Beast): app/ holds one and reloads it on SIGHUP.

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace confide::net {

/// What the certificate in use says about itself, for logs and metrics.
struct certificate_info {
    std::string subject;         ///< e.g. "CN=chat.example.com"
    std::int64_t not_after = 0;  ///< seconds since the epoch
};

/// The server's TLS settings: TLS 1.2 at least (1.3 when the client offers it), forward-secret
/// AEAD cipher suites only for TLS 1.2, no compression, no renegotiation, buffers released while
/// a connection is idle.
///
/// Each new connection takes the context current at its accept (current()); reload() replaces
/// it for later connections while the ones open keep theirs, so that a renewed certificate is
/// picked up without dropping anybody.
///
/// Thread safety: every member may be called from any thread.
class tls_context {
public:
    /// Loads the certificate chain (PEM, the server's certificate first, then intermediates)
    /// and its private key (PEM, unencrypted). Throws std::runtime_error naming the file and
    /// OpenSSL's reason when either cannot be read or they do not belong together.
    static std::shared_ptr<tls_context> load(std::string cert_file, std::string key_file);

    /// Reads both files again. On success later connections use them; on failure the context
    /// in use stays and the reason is returned.
    std::optional<std::string> reload();

    /// The context for a new connection. Keep the pointer as long as the connection lives.
    std::shared_ptr<boost::asio::ssl::context> current() const;

    certificate_info info() const;
    const std::string& cert_file() const noexcept { return cert_file_; }

private:
    tls_context(std::string cert_file, std::string key_file);
    // Builds a context from the files; throws std::runtime_error.
    std::pair<std::shared_ptr<boost::asio::ssl::context>, certificate_info> build() const;

    const std::string cert_file_;
    const std::string key_file_;
    mutable std::mutex mutex_;
    std::shared_ptr<boost::asio::ssl::context> current_;  // guarded by mutex_
    certificate_info info_;                               // guarded by mutex_
};

}  // namespace confide::net

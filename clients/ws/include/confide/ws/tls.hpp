#pragma once
// The TLS settings of wss:// connections, shared by all connections to one server. OpenSSL
// stays inside clients/ws's .cpp files.

#include <memory>
#include <string>

namespace confide::ws {

/// Opaque: an OpenSSL client context (TLS 1.2 minimum, peer verification on).
class tls_context;

/// A context trusting the PEM certificates in `ca_file`, or the system's CAs when it is empty.
/// Throws std::runtime_error naming the file when it cannot be read or holds no certificate.
/// Thread safety: safe; the context may be shared by connections on any threads.
std::shared_ptr<tls_context> make_tls_context(const std::string& ca_file = {});

}  // namespace confide::ws

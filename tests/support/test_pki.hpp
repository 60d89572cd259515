#pragma once
// Certificates for TLS tests, made by the openssl command-line tool in a temporary directory: a
// CA, and server certificates it signs for localhost and 127.0.0.1.

#include "support/local.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace confide::test {

struct certificate_files {
    std::filesystem::path cert;  ///< PEM chain: the certificate (the CA is the client's)
    std::filesystem::path key;   ///< PEM private key
};

/// Throws std::runtime_error (with openssl's output) when openssl fails.
class test_pki {
public:
    test_pki();

    /// The CA certificate (PEM), for clients to verify the servers.
    const std::filesystem::path& ca_file() const noexcept { return ca_; }

    /// A new key and a certificate for CN=`common_name` and `alt_names` (subjectAltName: by
    /// default DNS:localhost and IP:127.0.0.1), valid for a day, signed by the CA, in files
    /// named after `name`.
    certificate_files issue(const std::string& name, const std::string& common_name,
                            const std::string& alt_names = "DNS:localhost,IP:127.0.0.1");

    const std::filesystem::path& dir() const noexcept { return dir_.path(); }

private:
    void openssl(std::vector<std::string> args);

    temp_dir dir_;
    std::filesystem::path ca_;
    std::filesystem::path ca_key_;
};

}  // namespace confide::test

#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <fstream>
#include <stdexcept>

namespace confide::net {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites of Mozilla's "intermediate" profile without DHE (no parameters to manage):
// ECDHE key exchange and AEAD ciphers only. TLS 1.3 suites are OpenSSL's defaults, all good.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_reason(const boost::system::error_code& ec) {
    std::string why = ec.message();
    // Asio's message is the last OpenSSL error's; add the rest of the queue when there is one.
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        why += std::string("; ") + buf;
    }
    return why;
}

void must_be_readable(const std::string& what, const std::string& file) {
    std::ifstream in(file);
    if (!in) {
        throw std::runtime_error("cannot read the TLS " + what + " " + file);
    }
}

std::int64_t to_epoch(const ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    return static_cast<std::int64_t>(timegm(&tm));
}

std::string subject_of(X509* cert) {
    char buf[512] = {};
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf - 1);
    return buf;
}

}  // namespace

tls_context::tls_context(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

std::shared_ptr<tls_context> tls_context::load(std::string cert_file, std::string key_file) {
    std::shared_ptr<tls_context> t(new tls_context(std::move(cert_file), std::move(key_file)));
    auto [ctx, info] = t->build();
    t->current_ = std::move(ctx);
    t->info_ = std::move(info);
    return t;
}

std::pair<std::shared_ptr<ssl::context>, certificate_info> tls_context::build() const {
    must_be_readable("certificate file", cert_file_);
    must_be_readable("key file", key_file_);
    ERR_clear_error();
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
        throw std::runtime_error("TLS: cannot require TLS 1.2");
    }
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                     ssl::context::single_dh_use);
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
    // An idle connection gives its read and write buffers (~34 KiB) back: thousands of them sit
    // idle most of the time.
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1) {
        throw std::runtime_error("TLS: cannot set the cipher suites");
    }

    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cert_file_, ec);
    if (ec) {
        throw std::runtime_error("cannot load the TLS certificate " + cert_file_ + ": " +
                                 openssl_reason(ec));
    }
    ctx->use_private_key_file(key_file_, ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error("cannot load the TLS key " + key_file_ + ": " +
                                 openssl_reason(ec));
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        ERR_clear_error();
        throw std::runtime_error("the TLS key " + key_file_ +
                                 " does not belong to the certificate " + cert_file_);
    }
    certificate_info info;
    if (X509* leaf = SSL_CTX_get0_certificate(native)) {
        info.subject = subject_of(leaf);
        info.not_after = to_epoch(X509_get0_notAfter(leaf));
    }
    return {std::move(ctx), std::move(info)};
}

std::optional<std::string> tls_context::reload() {
    try {
        auto [ctx, info] = build();
        std::lock_guard lock(mutex_);
        current_ = std::move(ctx);
        info_ = std::move(info);
        return std::nullopt;
    } catch (const std::exception& e) {
        return std::string(e.what());
    }
}

std::shared_ptr<ssl::context> tls_context::current() const {
    std::lock_guard lock(mutex_);
    return current_;
}

certificate_info tls_context::info() const {
    std::lock_guard lock(mutex_);
    return info_;
}

}  // namespace confide::net

#pragma once
// Internal to confide_auth: RAII for the OpenSSL objects the layer uses.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>

namespace confide::auth::detail {

/// Pops every OpenSSL error pushed during its lifetime, so none is left on the thread's queue: a
/// stale entry would later be read as the cause of an unrelated TLS failure (SSL_get_error reads
/// the queue). Thread safety: the queue is per thread.
class openssl_error_scope {
public:
    openssl_error_scope() noexcept { ERR_set_mark(); }
    ~openssl_error_scope() { ERR_pop_to_mark(); }
    openssl_error_scope(const openssl_error_scope&) = delete;
    openssl_error_scope& operator=(const openssl_error_scope&) = delete;
};

struct openssl_deleter {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
    void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};

template <class T>
using openssl_ptr = std::unique_ptr<T, openssl_deleter>;

}  // namespace confide::auth::detail

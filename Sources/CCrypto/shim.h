#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/pem.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>

// OPENSSL_free and EVP_EC_gen are macros / variadic in OpenSSL 3: wrap them for Swift.
static inline void rollout_openssl_free(void *pointer) {
    OPENSSL_free(pointer);
}
static inline EVP_PKEY *rollout_evp_ec_generate_p256(void) {
    return EVP_EC_gen("P-256");
}

// BIO_get_mem_data is a macro over BIO_ctrl: wrap it for Swift.
static inline long rollout_bio_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

// SHA-256 on a caller-owned context: no allocation and no provider lookup per call, unlike EVP (about 1 µs a call
// in OpenSSL 3), for the small strings SigV4 hashes and signs at a high rate; a context is a plain struct, so an
// HMAC key's padded states are computed once and copied. SHA256_Init/Update/Final are deprecated in OpenSSL 3.0
// (not removed; the same SHA-NI code runs): the warnings are silenced here, where they are used on purpose.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static inline void rollout_sha256_init(SHA256_CTX *context) {
    SHA256_Init(context);
}
static inline void rollout_sha256_update(SHA256_CTX *context, const void *bytes, size_t count) {
    SHA256_Update(context, bytes, count);
}
static inline void rollout_sha256_final(SHA256_CTX *context, unsigned char *digest) {
    SHA256_Final(digest, context);
}
#pragma clang diagnostic pop

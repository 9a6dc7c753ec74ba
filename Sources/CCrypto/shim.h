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

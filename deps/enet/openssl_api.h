/* The part of OpenSSL 3's ABI that the DTLS layer (dtls_layer.c) uses.
 *
 * Declared here instead of taken from OpenSSL's headers, and called through a table of pointers that
 * openssl_api.c fills at run time from the running process: Node exports the OpenSSL it is built with
 * (its addon documentation promises OpenSSL's symbols to addons). So the addon links and loads with no
 * OpenSSL at all, compiles for any target (no per-architecture OpenSSL configuration headers), and a
 * runtime without OpenSSL 3 (Node built --without-ssl, Electron's BoringSSL) makes DTLS report itself
 * unavailable instead of crashing at the first call.
 *
 * Every declaration must match OpenSSL 3.x, whose ABI is stable across its minor versions (Node 20-24
 * ship 3.0 to 3.5). openssl_api_check.c compares each function type and constant below with OpenSSL's
 * own headers at compile time whenever those headers are at hand (native builds against Node's
 * include directory). */
#ifndef GODOT_ENET_OPENSSL_API_H
#define GODOT_ENET_OPENSSL_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque types, with OpenSSL's own tags so the check can include both declarations. */
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_method_st SSL_METHOD;
typedef struct ssl_cipher_st SSL_CIPHER;
typedef struct bio_st BIO;
typedef struct bio_method_st BIO_METHOD;
typedef union bio_addr_st BIO_ADDR;
typedef struct x509_st X509;
typedef struct x509_store_st X509_STORE;
typedef struct x509_store_ctx_st X509_STORE_CTX;
typedef struct X509_VERIFY_PARAM_st X509_VERIFY_PARAM;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_st EVP_MD;

typedef int (*SSL_verify_cb)(int preverify_ok, X509_STORE_CTX *x509_ctx);

/* X(return type, name, parameter list): every function the DTLS layer calls. */
#define GODOT_OPENSSL_FUNCTIONS(X)                                                                        \
    X(unsigned long, OpenSSL_version_num, (void))                                                         \
    X(unsigned long, ERR_get_error, (void))                                                               \
    X(void, ERR_clear_error, (void))                                                                      \
    X(void, ERR_error_string_n, (unsigned long e, char *buf, size_t len))                                 \
    X(int, RAND_bytes, (unsigned char *buf, int num))                                                     \
    X(int, CRYPTO_memcmp, (const void *a, const void *b, size_t len))                                     \
    X(const EVP_MD *, EVP_sha256, (void))                                                                 \
    X(unsigned char *, HMAC, (const EVP_MD *md, const void *key, int keyLength, const unsigned char *data, \
                              size_t dataLength, unsigned char *out, unsigned int *outLength))            \
    X(BIO_METHOD *, BIO_meth_new, (int type, const char *name))                                           \
    X(void, BIO_meth_free, (BIO_METHOD *method))                                                          \
    X(int, BIO_meth_set_write, (BIO_METHOD *method, int (*write)(BIO *, const char *, int)))              \
    X(int, BIO_meth_set_read, (BIO_METHOD *method, int (*read)(BIO *, char *, int)))                      \
    X(int, BIO_meth_set_ctrl, (BIO_METHOD *method, long (*ctrl)(BIO *, int, long, void *)))               \
    X(int, BIO_meth_set_create, (BIO_METHOD *method, int (*create)(BIO *)))                               \
    X(BIO *, BIO_new, (const BIO_METHOD *method))                                                         \
    X(void, BIO_set_data, (BIO *bio, void *data))                                                         \
    X(void *, BIO_get_data, (BIO *bio))                                                                   \
    X(void, BIO_set_init, (BIO *bio, int init))                                                           \
    X(void, BIO_set_flags, (BIO *bio, int flags))                                                         \
    X(void, BIO_clear_flags, (BIO *bio, int flags))                                                       \
    X(BIO_ADDR *, BIO_ADDR_new, (void))                                                                   \
    X(void, BIO_ADDR_free, (BIO_ADDR *address))                                                           \
    X(X509 *, d2i_X509, (X509 **out, const unsigned char **in, long length))                              \
    X(void, X509_free, (X509 *certificate))                                                               \
    X(EVP_PKEY *, d2i_AutoPrivateKey, (EVP_PKEY **out, const unsigned char **in, long length))            \
    X(void, EVP_PKEY_free, (EVP_PKEY *key))                                                               \
    X(int, X509_STORE_add_cert, (X509_STORE *store, X509 *certificate))                                   \
    X(const char *, X509_verify_cert_error_string, (long error))                                          \
    X(int, X509_VERIFY_PARAM_set1_host, (X509_VERIFY_PARAM *param, const char *name, size_t length))      \
    X(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM *param, const char *ip))                     \
    X(const SSL_METHOD *, DTLS_server_method, (void))                                                     \
    X(const SSL_METHOD *, DTLS_client_method, (void))                                                     \
    X(SSL_CTX *, SSL_CTX_new, (const SSL_METHOD *method))                                                 \
    X(void, SSL_CTX_free, (SSL_CTX *ctx))                                                                 \
    X(long, SSL_CTX_ctrl, (SSL_CTX *ctx, int command, long larg, void *parg))                             \
    X(uint64_t, SSL_CTX_set_options, (SSL_CTX *ctx, uint64_t options))                                    \
    X(int, SSL_CTX_set_cipher_list, (SSL_CTX *ctx, const char *list))                                     \
    X(int, SSL_CTX_use_certificate, (SSL_CTX *ctx, X509 *certificate))                                    \
    X(int, SSL_CTX_use_PrivateKey, (SSL_CTX *ctx, EVP_PKEY *key))                                         \
    X(int, SSL_CTX_check_private_key, (const SSL_CTX *ctx))                                               \
    X(X509_STORE *, SSL_CTX_get_cert_store, (const SSL_CTX *ctx))                                         \
    X(void, SSL_CTX_set_verify, (SSL_CTX *ctx, int mode, SSL_verify_cb callback))                         \
    X(void, SSL_CTX_set_cookie_generate_cb,                                                               \
      (SSL_CTX *ctx, int (*generate)(SSL *ssl, unsigned char *cookie, unsigned int *length)))             \
    X(void, SSL_CTX_set_cookie_verify_cb,                                                                 \
      (SSL_CTX *ctx, int (*verify)(SSL *ssl, const unsigned char *cookie, unsigned int length)))          \
    X(SSL *, SSL_new, (SSL_CTX *ctx))                                                                     \
    X(void, SSL_free, (SSL *ssl))                                                                         \
    X(void, SSL_set_bio, (SSL *ssl, BIO *rbio, BIO *wbio))                                                \
    X(BIO *, SSL_get_rbio, (const SSL *ssl))                                                              \
    X(uint64_t, SSL_set_options, (SSL *ssl, uint64_t options))                                            \
    X(long, SSL_ctrl, (SSL *ssl, int command, long larg, void *parg))                                     \
    X(X509_VERIFY_PARAM *, SSL_get0_param, (SSL *ssl))                                                    \
    X(void, SSL_set_accept_state, (SSL *ssl))                                                             \
    X(void, SSL_set_connect_state, (SSL *ssl))                                                            \
    X(int, DTLSv1_listen, (SSL *ssl, BIO_ADDR *client))                                                   \
    X(int, SSL_do_handshake, (SSL *ssl))                                                                  \
    X(int, SSL_read, (SSL *ssl, void *buffer, int length))                                                \
    X(int, SSL_has_pending, (const SSL *ssl))                                                             \
    X(int, SSL_write, (SSL *ssl, const void *buffer, int length))                                         \
    X(int, SSL_shutdown, (SSL *ssl))                                                                      \
    X(int, SSL_get_error, (const SSL *ssl, int result))                                                   \
    X(long, SSL_get_verify_result, (const SSL *ssl))

/* X(name, value): OpenSSL 3's values of the constants used (macros in OpenSSL's headers). */
#define GODOT_OPENSSL_CONSTANTS(X)               \
    X(SSL_ERROR_NONE, 0)                         \
    X(SSL_ERROR_SSL, 1)                          \
    X(SSL_ERROR_WANT_READ, 2)                    \
    X(SSL_ERROR_WANT_WRITE, 3)                   \
    X(SSL_ERROR_SYSCALL, 5)                      \
    X(SSL_ERROR_ZERO_RETURN, 6)                  \
    X(SSL_VERIFY_NONE, 0)                        \
    X(SSL_VERIFY_PEER, 1)                        \
    X(SSL_CTRL_SET_MTU, 17)                      \
    X(SSL_CTRL_SET_SESS_CACHE_MODE, 44)          \
    X(SSL_CTRL_SET_TLSEXT_HOSTNAME, 55)          \
    X(DTLS_CTRL_GET_TIMEOUT, 73)                 \
    X(DTLS_CTRL_HANDLE_TIMEOUT, 74)              \
    X(SSL_CTRL_CHAIN_CERT, 89)                   \
    X(DTLS_CTRL_SET_LINK_MTU, 120)               \
    X(SSL_CTRL_SET_MIN_PROTO_VERSION, 123)       \
    X(SSL_CTRL_SET_MAX_PROTO_VERSION, 124)       \
    X(SSL_SESS_CACHE_OFF, 0)                     \
    X(TLSEXT_NAMETYPE_host_name, 0)              \
    X(DTLS1_2_VERSION, 0xFEFD)                   \
    X(X509_V_OK, 0)                              \
    X(X509_V_ERR_HOSTNAME_MISMATCH, 62)          \
    X(X509_V_ERR_IP_ADDRESS_MISMATCH, 64)        \
    X(BIO_TYPE_SOURCE_SINK, 0x0400)              \
    X(BIO_CTRL_FLUSH, 11)                        \
    X(BIO_FLAGS_READ, 0x01)                      \
    X(BIO_FLAGS_SHOULD_RETRY, 0x08)

/* SSL_OP_* are 64-bit: SSL_OP_BIT(n) in OpenSSL's headers. */
#define GODOT_OPENSSL_OPTIONS(X)        \
    X(SSL_OP_NO_QUERY_MTU, 12)          \
    X(SSL_OP_COOKIE_EXCHANGE, 13)       \
    X(SSL_OP_NO_TICKET, 14)             \
    X(SSL_OP_NO_RENEGOTIATION, 30)

#ifndef GODOT_OPENSSL_API_CHECK /* the check defines none of this: OpenSSL's headers do */

#define GODOT_OPENSSL_CONSTANT(name, value) name = (value),
enum { GODOT_OPENSSL_CONSTANTS(GODOT_OPENSSL_CONSTANT) };
#undef GODOT_OPENSSL_CONSTANT

#define GODOT_OPENSSL_OPTION(name, bit) static const uint64_t name = (uint64_t) 1 << (bit);
GODOT_OPENSSL_OPTIONS(GODOT_OPENSSL_OPTION)
#undef GODOT_OPENSSL_OPTION

#define GODOT_OPENSSL_POINTER(ret, name, params) ret (*name) params;
typedef struct GodotOpenSSL {
    GODOT_OPENSSL_FUNCTIONS(GODOT_OPENSSL_POINTER)
} GodotOpenSSL;
#undef GODOT_OPENSSL_POINTER

/* The functions of the OpenSSL 3 this process runs, or NULL with `*whyNot` set when it has none (or
 * GODOT_ENET_NO_OPENSSL=1 in the environment, which tests use to play a runtime without OpenSSL).
 * Resolved once per process; thread-safe. */
const GodotOpenSSL *godot_openssl(const char **whyNot);

#endif

#ifdef __cplusplus
}
#endif

#endif

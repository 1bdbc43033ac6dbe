/* Compile-time proof that openssl_api.h describes OpenSSL 3 as its own headers do: every function type
 * and constant is compared with OpenSSL's declaration. Built only where those headers are at hand
 * (native builds against Node's include directory); it produces no code. */
#define OPENSSL_SUPPRESS_DEPRECATED /* HMAC() is deprecated in 3.0 but exported by every 3.x */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#define GODOT_OPENSSL_API_CHECK
#include "openssl_api.h"

#define CHECK_FUNCTION(ret, name, params) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params), #name " differs from OpenSSL's declaration");
GODOT_OPENSSL_FUNCTIONS(CHECK_FUNCTION)

#define CHECK_CONSTANT(name, value) _Static_assert((name) == (value), #name " differs from OpenSSL's value");
GODOT_OPENSSL_CONSTANTS(CHECK_CONSTANT)

#define CHECK_OPTION(name, bit) _Static_assert((name) == ((uint64_t) 1 << (bit)), #name " differs from OpenSSL's value");
GODOT_OPENSSL_OPTIONS(CHECK_OPTION)

/* ISO C wants at least one declaration in a translation unit. */
typedef int godot_enet_openssl_api_checked;

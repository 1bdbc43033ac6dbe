/* Finds OpenSSL 3's functions in the running process (see openssl_api.h for why at run time). */
#ifndef _WIN32
#define _GNU_SOURCE /* RTLD_DEFAULT */
#endif
#include "openssl_api.h"

#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
/* node.exe exports OpenSSL's symbols itself (Node's openssl.def). */
static void *find_symbol(const char *name) { return (void *) GetProcAddress(GetModuleHandleW(NULL), name); }
#else
#include <dlfcn.h>
#include <pthread.h>
/* The global scope: the node executable (which exports its bundled OpenSSL) and the libraries it loaded
 * (a distribution's node linked to the system libssl). */
static void *find_symbol(const char *name) { return dlsym(RTLD_DEFAULT, name); }
#endif

static GodotOpenSSL table;
static const GodotOpenSSL *resolved;
static const char *failure;
static char failureText[160];

static void resolve(void) {
    const char *disabled = getenv("GODOT_ENET_NO_OPENSSL");
    if (disabled != NULL && disabled[0] != '\0' && strcmp(disabled, "0") != 0) {
        failure = "OpenSSL is disabled (GODOT_ENET_NO_OPENSSL is set)";
        return;
    }
    /* Each name is looked up as a plain data pointer, then stored into its typed slot. */
#define GODOT_OPENSSL_FIND(ret, name, params)                                                            \
    {                                                                                                     \
        void *symbol = find_symbol(#name);                                                                \
        if (symbol == NULL) {                                                                             \
            strcpy(failureText, "the running Node.js does not export OpenSSL (" #name " is missing)");   \
            failure = failureText;                                                                        \
            return;                                                                                       \
        }                                                                                                 \
        memcpy(&table.name, &symbol, sizeof symbol);                                                      \
    }
    GODOT_OPENSSL_FUNCTIONS(GODOT_OPENSSL_FIND)
#undef GODOT_OPENSSL_FIND
    /* Our declarations describe OpenSSL 3's ABI; BoringSSL reports 1.1.x here, a future 4.x may differ. */
    unsigned long version = table.OpenSSL_version_num();
    if ((version >> 28) != 3) {
        strcpy(failureText, "the running Node.js has no OpenSSL 3 (DTLS needs OpenSSL 3.x)");
        failure = failureText;
        return;
    }
    resolved = &table;
}

#ifdef _WIN32
static BOOL CALLBACK resolve_once(PINIT_ONCE once, PVOID parameter, PVOID *context) {
    (void) once;
    (void) parameter;
    (void) context;
    resolve();
    return TRUE;
}

const GodotOpenSSL *godot_openssl(const char **whyNot) {
    static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
    InitOnceExecuteOnce(&once, resolve_once, NULL, NULL);
    if (resolved == NULL && whyNot != NULL) *whyNot = failure;
    return resolved;
}
#else
const GodotOpenSSL *godot_openssl(const char **whyNot) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, resolve);
    if (resolved == NULL && whyNot != NULL) *whyNot = failure;
    return resolved;
}
#endif

/* DTLS for ENet hosts, the way Godot's ENetDTLSServer / ENetDTLSClient do it (../shared/spec/dtls.md):
 *
 *  - Each datagram ENet sends becomes exactly one DTLS 1.2 application-data record, alone in its UDP
 *    datagram; each record received becomes one datagram for ENet. Nothing else is added on the wire.
 *  - The server answers every first ClientHello with a HelloVerifyRequest (a cookie: an HMAC of the
 *    client's address), statelessly (DTLSv1_listen); state exists only for addresses that echoed a valid
 *    cookie. Clients are told apart by address. At most 16 handshakes start per receive round (Godot's
 *    UDPServer takes up at most 16 pending connections per poll), which bounds the CPU one service call
 *    spends on handshakes; where Godot drops the others, so that a reconnect storm waits for their
 *    retransmissions (1 s, 2 s, 4 s, ...), more cookie-bearing ClientHellos (up to the peer count, at
 *    least 256) wait for the next rounds. Nothing starts while refusing new connections, and at most ENet's peer count sessions exist
 *    (Godot's max_clients). A session no ENet peer claims within 8 s is dropped (Godot's
 *    ENET_DTLS_TIMEOUT_MS); the end of its ENet connection closes it with close_notify.
 *  - A client that restarts from the same address and port gets a fresh handshake: a ClientHello with an
 *    empty cookie from an address that has a session goes to the stateless listener, and once the same
 *    address echoes a valid cookie, the new handshake replaces the old session.
 *  - Datagrams are read whole into a 64 KiB buffer, so handshake flights bigger than ENet's 4096-byte
 *    buffer (mbedTLS, i.e. Godot, sends a whole flight in one datagram) arrive intact; ENet's limit
 *    applies to the decrypted record.
 *  - The client queues what ENet sends during its handshake and sends it once connected (Godot drops it
 *    and waits for ENet's retransmission, 500 ms later; the wire is the same). A handshake that fails
 *    (untrusted chain, wrong name, ...) is reported once with its reason, and the next send starts over,
 *    as in Godot.
 *  - ECDHE with AES-GCM or ChaCha20-Poly1305 only, DTLS 1.2 only, no tickets, no renegotiation.
 *
 * OpenSSL is the one Node runs on, reached through openssl_api.h. Each host has its own OpenSSL objects,
 * used only by the thread that services it. */
#include "dtls_layer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <winsock2.h> /* struct timeval */
#else
#include <sys/time.h>
#endif

#include "openssl_api.h"
#include "socket_layer.h"

#define RAW_CAPACITY 65536           /* any UDP datagram */
#define PLAIN_CAPACITY (16384 + 256) /* the largest DTLS record's plaintext, and then some */
#define SEND_CAPACITY ENET_PROTOCOL_MAXIMUM_MTU
#define STARTS_PER_ROUND 16          /* Godot's UDPServer max_pending_connections */
#define MIN_WAITING_HELLOS 256       /* cookie-bearing ClientHellos kept for later rounds: this many, or
                                        one per possible session if there are more */
#define WAITING_HELLO_SIZE 2048      /* larger ones are not kept (a ClientHello is a few hundred bytes) */
#define UNCLAIMED_SESSION_MS 8000    /* Godot's ENET_DTLS_TIMEOUT_MS */
#define HANDSHAKE_MTU 1400           /* handshake datagrams (flights are split to fit); records are not limited */
#define CLIENT_QUEUE 16              /* ENet datagrams a client keeps while its handshake runs */
#define COOKIE_LENGTH 32
#define COOKIE_PERIOD_MS 30000       /* a cookie is good for 30 to 60 s */
#define IDLE_TIMER_CHECK_MS 1000

static const char CIPHERS[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* One remote as OpenSSL's BIO sees it: where its records go. */
typedef struct Endpoint {
    GodotENetDtls *dtls;
    ENetAddress address;
    unsigned writes; /* datagrams sent: tells whether DTLSv1_listen answered */
} Endpoint;

typedef struct Session {
    Endpoint endpoint;
    struct Session *next; /* hash chain (server) */
    SSL *ssl;
    int connected;
    int restartRequested; /* a ClientHello without cookie came from this address since */
    unsigned claimedBy;   /* 1 + the ENet peer slot that connected through this session; 0: none yet */
    uint32_t createdAt;
    int timerArmed; /* OpenSSL's handshake retransmission timer */
    uint32_t timerAt;
} Session;

typedef struct WaitingHello {
    ENetAddress from;
    size_t length;
    uint8_t data[]; /* length bytes */
} WaitingHello;

typedef struct QueuedDatagram {
    uint8_t *data;
    size_t length;
} QueuedDatagram;

struct GodotENetDtls {
    const GodotOpenSSL *ossl;
    ENetSocket socket;
    int isServer;
    SSL_CTX *ctx;
    BIO_METHOD *bioMethod;
    GodotENetDtlsStats stats;
    uint8_t *raw;   /* RAW_CAPACITY: the datagram being read */
    uint8_t *plain; /* PLAIN_CAPACITY: a decrypted record */
    uint8_t *out;   /* SEND_CAPACITY: ENet's buffers, gathered */
    /* The datagram OpenSSL reads next, for the endpoint named: handed over once. */
    const uint8_t *input;
    size_t inputLength;
    const Endpoint *inputFor;
    Session *reading; /* its last datagram holds more records */
    uint32_t nextTimerCheck;
    /* Server */
    Session **buckets;
    size_t bucketMask;
    size_t maxSessions;
    int refusing;
    unsigned startedThisRound; /* handshakes started since the socket was last found empty */
    WaitingHello **waiting; /* a ring of waitingCapacity, allocated at the first use */
    size_t waitingCapacity, waitingFirst, waitingCount;
    SSL *listener;
    Endpoint listenerEndpoint;
    BIO_ADDR *listenerPeer;
    uint8_t cookieSecret[32];
    /* Client */
    Session *server;
    char *serverName;
    char *verifyName;
    int verifyNameIsIp;
    QueuedDatagram queue[CLIENT_QUEUE];
    size_t queued;
    char error[384];
    int errorPending;
};

const char *godot_enet_dtls_unavailable(void) {
    const char *why = NULL;
    return godot_openssl(&why) != NULL ? NULL : why;
}

static int reached(uint32_t now, uint32_t at) { return (int32_t) (now - at) >= 0; }

static int same_address(const ENetAddress *a, const ENetAddress *b) {
    return a->port == b->port && memcmp(&a->host, &b->host, 16) == 0;
}

static size_t address_hash(const ENetAddress *address) {
    const uint8_t *bytes = (const uint8_t *) &address->host;
    uint32_t hash = 2166136261u;
    for (int i = 0; i < 16; i++) hash = (hash ^ bytes[i]) * 16777619u;
    hash = (hash ^ (address->port & 0xff)) * 16777619u;
    hash = (hash ^ (address->port >> 8)) * 16777619u;
    return hash;
}

static void describe_address(const ENetAddress *address, char *out, size_t length) {
    char host[64];
    godot_enet_format_address((const uint8_t *) &address->host, host, sizeof host);
    snprintf(out, length, "%s:%u", host, (unsigned) address->port);
}

/* ---- The BIO: one datagram per write; a read hands over the datagram being processed, once. */

static Endpoint *endpoint_of_bio(BIO *bio) { return (Endpoint *) godot_openssl(NULL)->BIO_get_data(bio); }

static int bio_write(BIO *bio, const char *data, int length) {
    Endpoint *endpoint = endpoint_of_bio(bio);
    ENetBuffer buffer;
    buffer.data = (void *) data;
    buffer.dataLength = (size_t) length;
    godot_enet_socket_send_plain(endpoint->dtls->socket, &endpoint->address, &buffer, 1);
    endpoint->writes++;
    return length; /* a datagram the kernel drops is lost like any other: never a retry */
}

static int bio_read(BIO *bio, char *out, int capacity) {
    const GodotOpenSSL *ossl = godot_openssl(NULL);
    Endpoint *endpoint = endpoint_of_bio(bio);
    GodotENetDtls *dtls = endpoint->dtls;
    ossl->BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY);
    if (dtls->input == NULL || dtls->inputFor != endpoint) {
        ossl->BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY); /* nothing yet: come back later */
        return -1;
    }
    size_t length = dtls->inputLength < (size_t) capacity ? dtls->inputLength : (size_t) capacity;
    memcpy(out, dtls->input, length);
    dtls->input = NULL;
    return (int) length;
}

static long bio_ctrl(BIO *bio, int command, long larg, void *parg) {
    (void) bio;
    (void) larg;
    (void) parg;
    return command == BIO_CTRL_FLUSH ? 1 : 0; /* no peer address, MTU query or pending bytes to report */
}

static int bio_create(BIO *bio) {
    godot_openssl(NULL)->BIO_set_init(bio, 1);
    return 1;
}

/* An SSL object whose records travel through our BIO for `endpoint`. */
static SSL *new_ssl(GodotENetDtls *dtls, Endpoint *endpoint) {
    const GodotOpenSSL *ossl = dtls->ossl;
    SSL *ssl = ossl->SSL_new(dtls->ctx);
    BIO *bio = ssl != NULL ? ossl->BIO_new(dtls->bioMethod) : NULL;
    if (bio == NULL) {
        if (ssl != NULL) ossl->SSL_free(ssl);
        return NULL;
    }
    ossl->BIO_set_data(bio, endpoint);
    ossl->SSL_set_bio(ssl, bio, bio); /* the SSL owns the BIO */
    ossl->SSL_ctrl(ssl, SSL_CTRL_SET_MTU, HANDSHAKE_MTU, NULL);
    return ssl;
}

/* ---- Sessions */

static Session **bucket_of(GodotENetDtls *dtls, const ENetAddress *address) {
    return &dtls->buckets[address_hash(address) & dtls->bucketMask];
}

static Session *find_session(GodotENetDtls *dtls, const ENetAddress *address) {
    if (!dtls->isServer) return dtls->server;
    for (Session *session = *bucket_of(dtls, address); session != NULL; session = session->next) {
        if (same_address(&session->endpoint.address, address)) return session;
    }
    return NULL;
}

/* A new session with `ssl` (whose BIO then points at it), registered; NULL without memory. */
static Session *add_session(GodotENetDtls *dtls, const ENetAddress *address, SSL *ssl) {
    Session *session = calloc(1, sizeof *session);
    if (session == NULL) return NULL;
    session->endpoint.dtls = dtls;
    session->endpoint.address = *address;
    session->ssl = ssl;
    session->createdAt = enet_time_get();
    dtls->ossl->BIO_set_data(dtls->ossl->SSL_get_rbio(ssl), &session->endpoint);
    if (dtls->isServer) {
        Session **bucket = bucket_of(dtls, address);
        session->next = *bucket;
        *bucket = session;
    } else {
        dtls->server = session;
    }
    dtls->stats.sessions++;
    dtls->stats.pendingHandshakes++;
    return session;
}

static void free_queue(GodotENetDtls *dtls) {
    for (size_t i = 0; i < dtls->queued; i++) free(dtls->queue[i].data);
    dtls->queued = 0;
}

/* Unregisters and frees `session`; `goodbye` sends close_notify first if it was established. */
static void remove_session(GodotENetDtls *dtls, Session *session, int goodbye) {
    const GodotOpenSSL *ossl = dtls->ossl;
    if (goodbye && session->connected) {
        ossl->ERR_clear_error();
        ossl->SSL_shutdown(session->ssl);
    }
    if (dtls->isServer) {
        for (Session **link = bucket_of(dtls, &session->endpoint.address); *link != NULL; link = &(*link)->next) {
            if (*link == session) {
                *link = session->next;
                break;
            }
        }
    } else {
        dtls->server = NULL;
        free_queue(dtls);
    }
    if (!session->connected) dtls->stats.pendingHandshakes--;
    dtls->stats.sessions--;
    if (dtls->reading == session) dtls->reading = NULL;
    if (dtls->inputFor == &session->endpoint) dtls->input = NULL;
    ossl->SSL_free(session->ssl);
    ossl->ERR_clear_error();
    free(session);
}

/* Client: the session is over; remember why (reported once), and start over at the next send. */
static void fail_client(GodotENetDtls *dtls, Session *session, const char *what, const char *why) {
    char where[96];
    describe_address(&session->endpoint.address, where, sizeof where);
    snprintf(dtls->error, sizeof dtls->error, "DTLS %s %s: %s", what, where, why);
    dtls->errorPending = 1;
    remove_session(dtls, session, 0);
}

/* Why OpenSSL failed `session`'s handshake, in words. */
static void handshake_failure_reason(GodotENetDtls *dtls, Session *session, char *out, size_t length) {
    const GodotOpenSSL *ossl = dtls->ossl;
    long verify = ossl->SSL_get_verify_result(session->ssl);
    if (verify != X509_V_OK && !dtls->isServer) {
        const char *detail = verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH
            ? "the certificate is not for the expected name" : "the certificate chain is not trusted";
        snprintf(out, length, "certificate verification failed: %s (%s)", ossl->X509_verify_cert_error_string(verify),
                 detail);
        if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
            size_t used = strlen(out);
            snprintf(out + used, length - used, "; expected \"%s\"", dtls->verifyName ? dtls->verifyName : "");
        }
        return;
    }
    unsigned long code = ossl->ERR_get_error();
    if (code == 0) {
        snprintf(out, length, "the handshake failed");
        return;
    }
    ossl->ERR_error_string_n(code, out, length);
}

/* OpenSSL's retransmission timer for a handshaking session. */
static void update_timer(GodotENetDtls *dtls, Session *session) {
    struct timeval left;
    memset(&left, 0, sizeof left);
    if (dtls->ossl->SSL_ctrl(session->ssl, DTLS_CTRL_GET_TIMEOUT, 0, &left) == 1) {
        uint32_t ms = (uint32_t) left.tv_sec * 1000u + (uint32_t) left.tv_usec / 1000u;
        session->timerArmed = 1;
        session->timerAt = enet_time_get() + ms;
        if (!reached(session->timerAt, dtls->nextTimerCheck)) dtls->nextTimerCheck = session->timerAt;
    } else {
        session->timerArmed = 0;
    }
}

static void send_record(GodotENetDtls *dtls, Session *session, const uint8_t *data, size_t length) {
    dtls->ossl->ERR_clear_error();
    if (dtls->ossl->SSL_write(session->ssl, data, (int) length) <= 0) {
        dtls->stats.recordsDropped++;
        dtls->ossl->ERR_clear_error();
    }
}

/* Advances `session`'s handshake with whatever input is set: 1 done, 0 still running, -1 failed (gone). */
static int handshake(GodotENetDtls *dtls, Session *session) {
    const GodotOpenSSL *ossl = dtls->ossl;
    ossl->ERR_clear_error();
    int result = ossl->SSL_do_handshake(session->ssl);
    if (result == 1) {
        session->connected = 1;
        session->timerArmed = 0;
        dtls->stats.pendingHandshakes--;
        dtls->stats.handshakesCompleted++;
        if (!dtls->isServer) { /* what ENet sent meanwhile leaves now, in order */
            for (size_t i = 0; i < dtls->queued; i++) send_record(dtls, session, dtls->queue[i].data, dtls->queue[i].length);
            free_queue(dtls);
        }
        return 1;
    }
    int error = ossl->SSL_get_error(session->ssl, result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        update_timer(dtls, session);
        return 0;
    }
    dtls->stats.handshakesFailed++;
    if (dtls->isServer) {
        remove_session(dtls, session, 0);
    } else {
        char why[256];
        handshake_failure_reason(dtls, session, why, sizeof why);
        fail_client(dtls, session, "handshake with", why);
    }
    return -1;
}

/* The next record of `session`'s current datagram: its length once copied into ENet's buffer, or -2
 * (none, or it was dropped). A close or fatal alert from the remote ends the session. */
static int read_record(GodotENetDtls *dtls, Session *session, ENetAddress *address, ENetBuffer *buffers,
                       size_t bufferCount) {
    const GodotOpenSSL *ossl = dtls->ossl;
    ossl->ERR_clear_error();
    int length = ossl->SSL_read(session->ssl, dtls->plain, PLAIN_CAPACITY);
    if (length > 0) {
        dtls->reading = ossl->SSL_has_pending(session->ssl) ? session : NULL; /* more records in this datagram */
        if (bufferCount < 1 || buffers[0].dataLength < (size_t) length) {
            dtls->stats.recordsDropped++; /* no ENet datagram is that long */
            return -2;
        }
        memcpy(buffers[0].data, dtls->plain, (size_t) length);
        if (address != NULL) *address = session->endpoint.address;
        return length;
    }
    dtls->reading = NULL;
    int error = ossl->SSL_get_error(session->ssl, length);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return -2;
    dtls->stats.sessionsClosed++;
    if (error == SSL_ERROR_ZERO_RETURN) {
        ossl->ERR_clear_error();
        ossl->SSL_shutdown(session->ssl); /* answer the close_notify, as Godot does */
    }
    if (dtls->isServer) {
        remove_session(dtls, session, 0);
    } else {
        char why[256];
        if (error == SSL_ERROR_ZERO_RETURN) snprintf(why, sizeof why, "the server closed the session (close_notify)");
        else handshake_failure_reason(dtls, session, why, sizeof why);
        fail_client(dtls, session, "session with", why);
    }
    return -2;
}

/* One received datagram for `session` (already set as input): its record for ENet, or -2. */
static int feed(GodotENetDtls *dtls, Session *session, ENetAddress *address, ENetBuffer *buffers, size_t bufferCount) {
    if (!session->connected && handshake(dtls, session) <= 0) return -2;
    return read_record(dtls, session, address, buffers, bufferCount);
}

/* ---- Reading the first records of a datagram without OpenSSL */

/* A DTLS record header (content type 20..23, version 1.0 or 1.2) whose length fits the datagram. */
static int looks_like_dtls(const uint8_t *data, size_t length) {
    if (length < 13 || data[0] < 20 || data[0] > 23 || data[1] != 0xfe || (data[2] != 0xff && data[2] != 0xfd)) return 0;
    size_t recordLength = ((size_t) data[11] << 8) | data[12];
    return recordLength <= length - 13;
}

/* The cookie length of an epoch-0 ClientHello starting the datagram, or -1 if it is none. */
static int client_hello_cookie_length(const uint8_t *data, size_t length) {
    /* record header (13), handshake header (12: type, length, message_seq, fragment offset, length),
     * client_version (2), random (32), session_id, cookie */
    if (length < 13 + 12 + 2 + 32 + 1 || data[0] != 22 || data[3] != 0 || data[4] != 0 || data[13] != 1) return -1;
    if (data[19] != 0 || data[20] != 0 || data[21] != 0) return -1; /* a later fragment */
    size_t at = 13 + 12 + 2 + 32;
    at += 1 + (size_t) data[at];
    if (at >= length) return -1;
    return data[at];
}

/* ---- Server */

static uint32_t cookie_period(void) { return enet_time_get() / COOKIE_PERIOD_MS; }

static void make_cookie(GodotENetDtls *dtls, const ENetAddress *address, uint32_t period, uint8_t out[COOKIE_LENGTH]) {
    const GodotOpenSSL *ossl = dtls->ossl;
    uint8_t message[4 + 16 + 2];
    message[0] = (uint8_t) (period >> 24);
    message[1] = (uint8_t) (period >> 16);
    message[2] = (uint8_t) (period >> 8);
    message[3] = (uint8_t) period;
    memcpy(message + 4, &address->host, 16);
    message[20] = (uint8_t) (address->port >> 8);
    message[21] = (uint8_t) address->port;
    unsigned int length = COOKIE_LENGTH;
    ossl->HMAC(ossl->EVP_sha256(), dtls->cookieSecret, sizeof dtls->cookieSecret, message, sizeof message, out, &length);
}

static Endpoint *endpoint_of_ssl(SSL *ssl) {
    const GodotOpenSSL *ossl = godot_openssl(NULL);
    return (Endpoint *) ossl->BIO_get_data(ossl->SSL_get_rbio(ssl));
}

static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *length) {
    Endpoint *endpoint = endpoint_of_ssl(ssl);
    make_cookie(endpoint->dtls, &endpoint->address, cookie_period(), cookie);
    *length = COOKIE_LENGTH;
    return 1;
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int length) {
    Endpoint *endpoint = endpoint_of_ssl(ssl);
    if (length != COOKIE_LENGTH) return 0;
    uint32_t period = cookie_period();
    for (uint32_t age = 0; age < 2; age++) { /* this period's or the last one's */
        uint8_t expected[COOKIE_LENGTH];
        make_cookie(endpoint->dtls, &endpoint->address, period - age, expected);
        if (endpoint->dtls->ossl->CRYPTO_memcmp(expected, cookie, COOKIE_LENGTH) == 0) return 1;
    }
    return 0;
}

static int new_listener(GodotENetDtls *dtls) {
    dtls->listener = new_ssl(dtls, &dtls->listenerEndpoint);
    if (dtls->listener == NULL) return -1;
    dtls->ossl->SSL_set_accept_state(dtls->listener);
    return 0;
}

/* Keeps a cookie-bearing ClientHello (in dtls->raw) for a later receive round: -2 either way. */
static int wait_for_turn(GodotENetDtls *dtls, const ENetAddress *from, size_t length) {
    int kept = 0;
    if (dtls->waiting == NULL) dtls->waiting = calloc(dtls->waitingCapacity, sizeof *dtls->waiting);
    if (dtls->waiting != NULL && dtls->waitingCount < dtls->waitingCapacity && length <= WAITING_HELLO_SIZE) {
        kept = 1;
        for (size_t i = 0; i < dtls->waitingCount && kept; i++) /* a retransmission: the first copy will do */
            if (same_address(&dtls->waiting[(dtls->waitingFirst + i) % dtls->waitingCapacity]->from, from)) kept = 0;
    }
    WaitingHello *hello = kept ? malloc(sizeof *hello + length) : NULL;
    if (hello == NULL) {
        dtls->stats.handshakesRefused++;
        return -2;
    }
    hello->from = *from;
    hello->length = length;
    memcpy(hello->data, dtls->raw, length);
    dtls->waiting[(dtls->waitingFirst + dtls->waitingCount++) % dtls->waitingCapacity] = hello;
    dtls->stats.handshakesDeferred++;
    return -2;
}

/* A ClientHello (in dtls->raw) from `from` for the stateless listener (`replacing`: the address's current
 * session). Without a cookie it gets one; with a valid cookie it starts a session. */
static int accept_hello(GodotENetDtls *dtls, Session *replacing, const ENetAddress *from, int cookieLength, size_t length) {
    const GodotOpenSSL *ossl = dtls->ossl;
    if (dtls->refusing || (cookieLength > 0 && replacing == NULL && dtls->stats.sessions >= dtls->maxSessions)) {
        dtls->stats.handshakesRefused++;
        return -2;
    }
    if (cookieLength > 0 && dtls->startedThisRound >= STARTS_PER_ROUND) return wait_for_turn(dtls, from, length);
    if (dtls->listener == NULL && new_listener(dtls) != 0) return -2;
    Endpoint *endpoint = &dtls->listenerEndpoint;
    endpoint->address = *from;
    dtls->input = dtls->raw;
    dtls->inputLength = length;
    dtls->inputFor = endpoint;
    unsigned writes = endpoint->writes;
    ossl->ERR_clear_error();
    int result = ossl->DTLSv1_listen(dtls->listener, dtls->listenerPeer);
    dtls->input = NULL;
    ossl->ERR_clear_error();
    if (result <= 0) {
        if (endpoint->writes != writes) dtls->stats.helloVerifyRequests++;
        else dtls->stats.invalidDropped++;
        if (result < 0) { /* a fatal error leaves the listener unusable */
            ossl->SSL_free(dtls->listener);
            dtls->listener = NULL;
        }
        return -2;
    }
    /* A valid cookie: the listener, holding the ClientHello, becomes this address's session. */
    SSL *ssl = dtls->listener;
    dtls->listener = NULL;
    if (replacing != NULL) remove_session(dtls, replacing, 0); /* the client started over */
    Session *session = add_session(dtls, from, ssl);
    if (session == NULL) {
        ossl->SSL_free(ssl);
        return -2;
    }
    dtls->startedThisRound++;
    handshake(dtls, session); /* answers the ClientHello with the server's flight */
    return -2;
}

static int server_datagram(GodotENetDtls *dtls, const ENetAddress *from, size_t length, ENetAddress *address,
                           ENetBuffer *buffers, size_t bufferCount) {
    const uint8_t *data = dtls->raw;
    if (!looks_like_dtls(data, length)) {
        dtls->stats.invalidDropped++;
        return -2;
    }
    Session *session = find_session(dtls, from);
    int cookieLength = client_hello_cookie_length(data, length);
    if (session != NULL) {
        if (cookieLength == 0) session->restartRequested = 1;
        int startsOver = cookieLength == 0 || (cookieLength > 0 && (session->connected || session->restartRequested));
        if (!startsOver) {
            dtls->input = data;
            dtls->inputLength = length;
            dtls->inputFor = &session->endpoint;
            return feed(dtls, session, address, buffers, bufferCount);
        }
    }
    if (cookieLength < 0) { /* not the start of a handshake, and no session to take it */
        dtls->stats.invalidDropped++;
        return -2;
    }
    return accept_hello(dtls, session, from, cookieLength, length);
}

/* ---- Client */

static int start_client(GodotENetDtls *dtls, const ENetAddress *address) {
    const GodotOpenSSL *ossl = dtls->ossl;
    Endpoint scratch; /* the BIO is pointed at the session's endpoint by add_session */
    memset(&scratch, 0, sizeof scratch);
    scratch.dtls = dtls;
    SSL *ssl = new_ssl(dtls, &scratch);
    if (ssl == NULL) return -1;
    ossl->SSL_set_connect_state(ssl);
    if (dtls->serverName != NULL) ossl->SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, dtls->serverName);
    if (dtls->verifyName != NULL) {
        X509_VERIFY_PARAM *param = ossl->SSL_get0_param(ssl);
        int ok = dtls->verifyNameIsIp ? ossl->X509_VERIFY_PARAM_set1_ip_asc(param, dtls->verifyName)
                                      : ossl->X509_VERIFY_PARAM_set1_host(param, dtls->verifyName, 0);
        if (!ok) {
            ossl->SSL_free(ssl);
            return -1;
        }
    }
    Session *session = add_session(dtls, address, ssl);
    if (session == NULL) {
        ossl->SSL_free(ssl);
        return -1;
    }
    handshake(dtls, session); /* sends the ClientHello */
    return 0;
}

static int client_datagram(GodotENetDtls *dtls, const ENetAddress *from, size_t length, ENetAddress *address,
                           ENetBuffer *buffers, size_t bufferCount) {
    Session *session = dtls->server;
    /* Godot's client socket is connected to its server: anything else never reaches it. */
    if (session == NULL || !same_address(from, &session->endpoint.address) || !looks_like_dtls(dtls->raw, length)) {
        dtls->stats.invalidDropped++;
        return -2;
    }
    dtls->input = dtls->raw;
    dtls->inputLength = length;
    dtls->inputFor = &session->endpoint;
    return feed(dtls, session, address, buffers, bufferCount);
}

/* ---- Timers: handshake retransmissions, unclaimed sessions */

static void run_session_timers(GodotENetDtls *dtls, Session *session, uint32_t now) {
    if (dtls->isServer && session->claimedBy == 0) {
        uint32_t expiry = session->createdAt + UNCLAIMED_SESSION_MS;
        if (reached(now, expiry)) {
            dtls->stats.sessionsExpired++;
            remove_session(dtls, session, 1);
            return;
        }
        if (!reached(expiry, dtls->nextTimerCheck)) dtls->nextTimerCheck = expiry;
    }
    if (session->connected || !session->timerArmed) return;
    if (reached(now, session->timerAt)) {
        dtls->ossl->ERR_clear_error();
        if (dtls->ossl->SSL_ctrl(session->ssl, DTLS_CTRL_HANDLE_TIMEOUT, 0, NULL) < 0) { /* retransmits */
            dtls->stats.handshakesFailed++;
            if (dtls->isServer) remove_session(dtls, session, 0);
            else fail_client(dtls, session, "handshake with", "no answer (the handshake timed out)");
            return;
        }
    }
    update_timer(dtls, session);
}

static void run_timers(GodotENetDtls *dtls) {
    uint32_t now = enet_time_get();
    if (!reached(now, dtls->nextTimerCheck)) return;
    dtls->nextTimerCheck = now + IDLE_TIMER_CHECK_MS;
    if (!dtls->isServer) {
        if (dtls->server != NULL) run_session_timers(dtls, dtls->server, now);
        return;
    }
    for (size_t i = 0; i <= dtls->bucketMask; i++) {
        Session *session = dtls->buckets[i];
        while (session != NULL) {
            Session *next = session->next; /* the session may be removed */
            run_session_timers(dtls, session, now);
            session = next;
        }
    }
}

/* ---- ENet's socket calls */

int godot_enet_dtls_receive(GodotENetDtls *dtls, ENetAddress *address, ENetBuffer *buffers, size_t bufferCount) {
    run_timers(dtls);
    if (dtls->reading != NULL) { /* more records from the datagram read last */
        int length = read_record(dtls, dtls->reading, address, buffers, bufferCount);
        if (length != -2) return length;
    }
    ENetBuffer raw;
    raw.data = dtls->raw;
    raw.dataLength = RAW_CAPACITY;
    ENetAddress from;
    int length = godot_enet_socket_receive_plain(dtls->socket, &from, &raw, 1);
    if (length == 0 && dtls->waitingCount > 0 && dtls->startedThisRound < STARTS_PER_ROUND) {
        /* The socket is empty: the ClientHellos that wait have their turn. */
        WaitingHello *next = dtls->waiting[dtls->waitingFirst];
        dtls->waitingFirst = (dtls->waitingFirst + 1) % dtls->waitingCapacity;
        dtls->waitingCount--;
        from = next->from;
        length = (int) next->length;
        memcpy(dtls->raw, next->data, next->length);
        free(next);
    } else if (length == 0) {
        dtls->startedThisRound = 0; /* this receive round is over */
    }
    if (length <= 0) return length; /* 0: nothing more, -2: skipped by the socket layer, -1: fatal */
    int result = dtls->isServer ? server_datagram(dtls, &from, (size_t) length, address, buffers, bufferCount)
                                : client_datagram(dtls, &from, (size_t) length, address, buffers, bufferCount);
    dtls->input = NULL;
    return result;
}

int godot_enet_dtls_send(GodotENetDtls *dtls, const ENetAddress *address, const ENetBuffer *buffers, size_t bufferCount) {
    size_t length = 0;
    for (size_t i = 0; i < bufferCount; i++) {
        if (length + buffers[i].dataLength > SEND_CAPACITY) {
            dtls->stats.recordsDropped++;
            return 0;
        }
        memcpy(dtls->out + length, buffers[i].data, buffers[i].dataLength);
        length += buffers[i].dataLength;
    }
    if (address == NULL) return 0;
    if (!dtls->isServer && dtls->server == NULL && start_client(dtls, address) != 0) return -1;
    Session *session = find_session(dtls, address);
    if (session != NULL && session->connected) {
        send_record(dtls, session, dtls->out, length);
    } else if (session != NULL && !dtls->isServer && dtls->queued < CLIENT_QUEUE) {
        uint8_t *copy = malloc(length > 0 ? length : 1);
        if (copy != NULL) {
            memcpy(copy, dtls->out, length);
            dtls->queue[dtls->queued].data = copy;
            dtls->queue[dtls->queued].length = length;
            dtls->queued++;
        }
    } else {
        /* No session (yet) for this address: dropped but reported sent, as Godot does; ENet retransmits
         * what is reliable, or the peer times out. */
        dtls->stats.recordsDropped++;
    }
    return (int) length;
}

/* ---- Setup */

static GodotENetDtls *new_dtls(ENetSocket socket, int isServer, char *error, size_t errorLength) {
    const char *why = NULL;
    const GodotOpenSSL *ossl = godot_openssl(&why);
    if (ossl == NULL) {
        snprintf(error, errorLength, "%s", why);
        return NULL;
    }
    GodotENetDtls *dtls = calloc(1, sizeof *dtls);
    if (dtls == NULL) {
        snprintf(error, errorLength, "out of memory");
        return NULL;
    }
    dtls->ossl = ossl;
    dtls->socket = socket;
    dtls->isServer = isServer;
    dtls->nextTimerCheck = enet_time_get();
    dtls->raw = malloc(RAW_CAPACITY);
    dtls->plain = malloc(PLAIN_CAPACITY);
    dtls->out = malloc(SEND_CAPACITY);
    dtls->bioMethod = ossl->BIO_meth_new(BIO_TYPE_SOURCE_SINK, "godot-enet datagram");
    dtls->ctx = ossl->SSL_CTX_new(isServer ? ossl->DTLS_server_method() : ossl->DTLS_client_method());
    if (dtls->raw == NULL || dtls->plain == NULL || dtls->out == NULL || dtls->bioMethod == NULL || dtls->ctx == NULL) {
        snprintf(error, errorLength, "out of memory");
        godot_enet_dtls_destroy(dtls, 0);
        return NULL;
    }
    ossl->BIO_meth_set_write(dtls->bioMethod, bio_write);
    ossl->BIO_meth_set_read(dtls->bioMethod, bio_read);
    ossl->BIO_meth_set_ctrl(dtls->bioMethod, bio_ctrl);
    ossl->BIO_meth_set_create(dtls->bioMethod, bio_create);
    SSL_CTX *ctx = dtls->ctx;
    ossl->SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, DTLS1_2_VERSION, NULL);
    ossl->SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, DTLS1_2_VERSION, NULL);
    ossl->SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_OFF, NULL);
    ossl->SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                       (isServer ? SSL_OP_COOKIE_EXCHANGE : 0));
    if (ossl->SSL_CTX_set_cipher_list(ctx, CIPHERS) != 1) {
        snprintf(error, errorLength, "this OpenSSL offers none of ECDHE with AES-GCM or ChaCha20-Poly1305");
        godot_enet_dtls_destroy(dtls, 0);
        return NULL;
    }
    return dtls;
}

static X509 *read_certificate(const GodotOpenSSL *ossl, const uint8_t *der, size_t length) {
    const unsigned char *at = der;
    return ossl->d2i_X509(NULL, &at, (long) length);
}

GodotENetDtls *godot_enet_dtls_server_create(ENetSocket socket, size_t maxSessions, const uint8_t *key,
                                             size_t keyLength, const uint8_t *const *certificates,
                                             const size_t *certificateLengths, size_t certificateCount,
                                             char *error, size_t errorLength) {
    GodotENetDtls *dtls = new_dtls(socket, 1, error, errorLength);
    if (dtls == NULL) return NULL;
    const GodotOpenSSL *ossl = dtls->ossl;
    SSL_CTX *ctx = dtls->ctx;
    const char *problem = NULL;
    for (size_t i = 0; i < certificateCount && problem == NULL; i++) {
        X509 *certificate = read_certificate(ossl, certificates[i], certificateLengths[i]);
        if (certificate == NULL) {
            problem = "a certificate could not be read";
        } else if (i == 0 ? ossl->SSL_CTX_use_certificate(ctx, certificate) != 1
                          : ossl->SSL_CTX_ctrl(ctx, SSL_CTRL_CHAIN_CERT, 1, certificate) != 1) { /* 1: add a reference */
            problem = "the certificate was refused (is its key too weak?)";
        }
        if (certificate != NULL) ossl->X509_free(certificate);
    }
    if (problem == NULL && certificateCount == 0) problem = "no certificate";
    if (problem == NULL) {
        const unsigned char *at = key;
        EVP_PKEY *pkey = ossl->d2i_AutoPrivateKey(NULL, &at, (long) keyLength);
        if (pkey == NULL) problem = "the private key could not be read";
        else if (ossl->SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || ossl->SSL_CTX_check_private_key(ctx) != 1)
            problem = "the private key does not match the certificate";
        if (pkey != NULL) ossl->EVP_PKEY_free(pkey);
    }
    size_t buckets = 16;
    while (buckets < maxSessions * 2) buckets *= 2;
    dtls->buckets = problem == NULL ? calloc(buckets, sizeof *dtls->buckets) : NULL;
    dtls->bucketMask = buckets - 1;
    dtls->listenerPeer = problem == NULL ? ossl->BIO_ADDR_new() : NULL;
    if (problem == NULL && (dtls->buckets == NULL || dtls->listenerPeer == NULL)) problem = "out of memory";
    if (problem != NULL) {
        snprintf(error, errorLength, "%s", problem);
        godot_enet_dtls_destroy(dtls, 0);
        return NULL;
    }
    dtls->maxSessions = maxSessions;
    dtls->waitingCapacity = maxSessions > MIN_WAITING_HELLOS ? maxSessions : MIN_WAITING_HELLOS;
    dtls->listenerEndpoint.dtls = dtls;
    ossl->SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* no client certificates, as Godot */
    ossl->SSL_CTX_set_cookie_generate_cb(ctx, cookie_generate);
    ossl->SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify);
    ossl->RAND_bytes(dtls->cookieSecret, sizeof dtls->cookieSecret);
    ossl->ERR_clear_error();
    return dtls;
}

static char *copy_text(const char *text) {
    if (text == NULL) return NULL;
    size_t length = strlen(text) + 1;
    char *copy = malloc(length);
    if (copy != NULL) memcpy(copy, text, length);
    return copy;
}

GodotENetDtls *godot_enet_dtls_client_create(ENetSocket socket, const char *serverName, const char *verifyName,
                                             int verifyNameIsIp, int verifyPeer,
                                             const uint8_t *const *trusted, const size_t *trustedLengths,
                                             size_t trustedCount, char *error, size_t errorLength) {
    GodotENetDtls *dtls = new_dtls(socket, 0, error, errorLength);
    if (dtls == NULL) return NULL;
    const GodotOpenSSL *ossl = dtls->ossl;
    const char *problem = NULL;
    X509_STORE *store = ossl->SSL_CTX_get_cert_store(dtls->ctx);
    for (size_t i = 0; i < trustedCount && problem == NULL; i++) {
        X509 *certificate = read_certificate(ossl, trusted[i], trustedLengths[i]);
        if (certificate == NULL) problem = "a trusted certificate could not be read";
        else ossl->X509_STORE_add_cert(store, certificate); /* a duplicate is refused harmlessly */
        if (certificate != NULL) ossl->X509_free(certificate);
    }
    dtls->serverName = copy_text(serverName);
    dtls->verifyName = copy_text(verifyName);
    dtls->verifyNameIsIp = verifyNameIsIp;
    if (problem == NULL && ((serverName != NULL && dtls->serverName == NULL) || (verifyName != NULL && dtls->verifyName == NULL)))
        problem = "out of memory";
    if (problem != NULL) {
        snprintf(error, errorLength, "%s", problem);
        godot_enet_dtls_destroy(dtls, 0);
        return NULL;
    }
    ossl->SSL_CTX_set_verify(dtls->ctx, verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    ossl->ERR_clear_error();
    return dtls;
}

void godot_enet_dtls_destroy(GodotENetDtls *dtls, int closeSessions) {
    if (dtls == NULL) return;
    const GodotOpenSSL *ossl = dtls->ossl;
    if (dtls->server != NULL) remove_session(dtls, dtls->server, closeSessions);
    if (dtls->buckets != NULL) {
        for (size_t i = 0; i <= dtls->bucketMask; i++) {
            while (dtls->buckets[i] != NULL) remove_session(dtls, dtls->buckets[i], closeSessions);
        }
        free(dtls->buckets);
    }
    if (dtls->listener != NULL) ossl->SSL_free(dtls->listener);
    if (dtls->listenerPeer != NULL) ossl->BIO_ADDR_free(dtls->listenerPeer);
    if (dtls->ctx != NULL) ossl->SSL_CTX_free(dtls->ctx);
    if (dtls->bioMethod != NULL) ossl->BIO_meth_free(dtls->bioMethod);
    ossl->ERR_clear_error();
    free_queue(dtls);
    for (size_t i = 0; i < dtls->waitingCount; i++) free(dtls->waiting[(dtls->waitingFirst + i) % dtls->waitingCapacity]);
    free(dtls->waiting);
    free(dtls->serverName);
    free(dtls->verifyName);
    free(dtls->raw);
    free(dtls->plain);
    free(dtls->out);
    memset(dtls->cookieSecret, 0, sizeof dtls->cookieSecret);
    free(dtls);
}

void godot_enet_dtls_refuse_new_connections(GodotENetDtls *dtls, int refuse) { dtls->refusing = refuse != 0; }

void godot_enet_dtls_peer_bound(GodotENetDtls *dtls, const ENetAddress *address, unsigned slot) {
    if (!dtls->isServer) return;
    Session *session = find_session(dtls, address);
    if (session != NULL) session->claimedBy = slot + 1;
}

void godot_enet_dtls_peer_ended(GodotENetDtls *dtls, const ENetAddress *address, unsigned slot) {
    if (!dtls->isServer) return;
    Session *session = find_session(dtls, address);
    /* Only the connection that claimed it: after a restart from the same port, the old ENet peer's end
     * must not close the new session. */
    if (session != NULL && session->claimedBy == slot + 1) remove_session(dtls, session, 1);
}

const char *godot_enet_dtls_take_error(GodotENetDtls *dtls) {
    if (!dtls->errorPending) return NULL;
    dtls->errorPending = 0;
    return dtls->error;
}

const GodotENetDtlsStats *godot_enet_dtls_stats(const GodotENetDtls *dtls) { return &dtls->stats; }

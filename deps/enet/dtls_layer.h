/* DTLS for ENet hosts, as Godot's ENetConnection.dtls_server_setup / dtls_client_setup: see dtls_layer.c. */
#ifndef GODOT_ENET_DTLS_LAYER_H
#define GODOT_ENET_DTLS_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "enet.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct GodotENetDtls GodotENetDtls;

typedef struct GodotENetDtlsStats {
    uint32_t sessions;            /* DTLS sessions now (server: addresses past their cookie; client: 0 or 1) */
    uint32_t pendingHandshakes;   /* of those, still handshaking */
    uint64_t handshakesCompleted;
    uint64_t handshakesFailed;    /* rejected certificates, fatal alerts, handshakes given up */
    uint64_t helloVerifyRequests; /* cookies sent (server) */
    uint64_t handshakesRefused;   /* ClientHellos dropped: refusing new connections, no room for another
                                     session, or more waiting than the server keeps (its peer count, at least 256) */
    uint64_t handshakesDeferred;  /* ClientHellos kept for a later receive round (16 handshakes start per round) */
    uint64_t sessionsExpired;     /* sessions no ENet peer claimed within 8 s, dropped (server) */
    uint64_t sessionsClosed;      /* ended by the remote (close_notify or a fatal alert) */
    uint64_t invalidDropped;      /* datagrams that are no DTLS for us: garbage, plain ENet, stray records,
                                     malformed ClientHellos, or (client) not from the server */
    uint64_t recordsDropped;      /* ENet datagrams not carried: sent before the handshake was done or to an
                                     address without a session, or received larger than ENet's buffer */
} GodotENetDtlsStats;

/* NULL when this process can run DTLS (it has OpenSSL 3), else why not. */
const char *godot_enet_dtls_unavailable(void);

/* A DTLS server on `socket` for at most `maxSessions` clients (ENet's peer count), with a private key
 * (DER: PKCS#8 or traditional) and a certificate chain (DER, own certificate first; the whole chain is
 * sent). NULL on failure, with the reason in `error`. */
GodotENetDtls *godot_enet_dtls_server_create(ENetSocket socket, size_t maxSessions, const uint8_t *key,
                                             size_t keyLength, const uint8_t *const *certificates,
                                             const size_t *certificateLengths, size_t certificateCount,
                                             char *error, size_t errorLength);

/* A DTLS client on `socket`: its first send starts a handshake with that address. `serverName` is sent as
 * SNI (NULL: none); `verifyName` is the name the certificate must carry (NULL: not checked), an IP
 * address when `verifyNameIsIp`; with `verifyPeer` the chain must lead to one of the `trusted` (DER). */
GodotENetDtls *godot_enet_dtls_client_create(ENetSocket socket, const char *serverName, const char *verifyName,
                                             int verifyNameIsIp, int verifyPeer,
                                             const uint8_t *const *trusted, const size_t *trustedLengths,
                                             size_t trustedCount, char *error, size_t errorLength);

/* Frees everything; with `closeSessions`, first sends close_notify on every established session (the
 * socket must still be open). */
void godot_enet_dtls_destroy(GodotENetDtls *dtls, int closeSessions);

/* enet_socket_send / enet_socket_receive for a DTLS socket (socket_layer.c hands them over). */
int godot_enet_dtls_send(GodotENetDtls *dtls, const ENetAddress *address, const ENetBuffer *buffers, size_t bufferCount);
int godot_enet_dtls_receive(GodotENetDtls *dtls, ENetAddress *address, ENetBuffer *buffers, size_t bufferCount);

/* Server: while refusing, no new handshake starts (Godot: 0 pending connections instead of 16). */
void godot_enet_dtls_refuse_new_connections(GodotENetDtls *dtls, int refuse);

/* Server: the ENet peer in `slot` was connected from `address` (it claims that session: no expiry) /
 * its connection ended (its session closes, with close_notify). */
void godot_enet_dtls_peer_bound(GodotENetDtls *dtls, const ENetAddress *address, unsigned slot);
void godot_enet_dtls_peer_ended(GodotENetDtls *dtls, const ENetAddress *address, unsigned slot);

/* Client: why the last handshake or session failed, once (then NULL until the next failure). */
const char *godot_enet_dtls_take_error(GodotENetDtls *dtls);

const GodotENetDtlsStats *godot_enet_dtls_stats(const GodotENetDtls *dtls);

#ifdef __cplusplus
}
#endif

#endif

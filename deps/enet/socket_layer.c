/* godot-enet's socket layer for ENet: our definitions of the header's socket functions (patch 0016
 * leaves them out of the header), the same on every OS. The system calls themselves are in socket_os.h.
 *
 * What it changes, and why:
 *  - Dual-stack IPv6 like Godot, but when the kernel has no IPv6 (or GODOT_ENET_IPV4_ONLY=1), it
 *    falls back to an AF_INET socket and translates ENet's IPv4-mapped addresses at the edge.
 *  - A datagram longer than ENet's buffer is skipped (-2) instead of failing the service call, and
 *    so are transient receive errors; each is counted. So is an empty datagram: ENet would take its
 *    length 0 for "nothing more to read" and end the receive round, so a stream of them starves it.
 *  - A send the kernel refuses (unreachable network, no route) drops that datagram like a loss
 *    instead of failing the whole service call for every other peer; counted too.
 *  - EINTR is retried.
 *  - Optionally (servers, on Linux), datagrams are read several at a time (socket_os_recvmmsg.h).
 *  - A host upgraded to DTLS hands its sends and receives to dtls_layer.c (the "DTLS hook" lines), which
 *    sends and reads the encrypted datagrams through the *_plain functions here.
 * Per-socket state lives in a table indexed by the socket's slot (its descriptor on POSIX): sockets
 * are process-wide anyway, and the hot path then needs no lock. */
#define _GNU_SOURCE
#include "enet.h"
#include "socket_layer.h"
#include "dtls_layer.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "socket_os.h"

typedef struct SocketInfo {
    int family;
    ReceiveBatch *batch; /* NULL unless godot_enet_socket_batch_receives was called */
    GodotENetDtls *dtls; /* NULL unless the host was upgraded to DTLS (dtls_layer.c) */
    GodotENetSocketStats stats;
} SocketInfo;

static _Atomic(SocketInfo *) sockets[MAX_TRACKED_SOCKETS];

static SocketInfo *info_of(ENetSocket socket) {
    int slot = os_socket_slot(socket);
    return slot < 0 ? NULL : atomic_load_explicit(&sockets[slot], memory_order_acquire);
}

const GodotENetSocketStats *godot_enet_socket_stats(ENetSocket socket) {
    SocketInfo *info = info_of(socket);
    return info ? &info->stats : NULL;
}

int godot_enet_socket_family(ENetSocket socket) {
    SocketInfo *info = info_of(socket);
    return info && info->family == AF_INET ? 4 : 6;
}

static void free_batch(SocketInfo *info) {
#ifdef SOCKET_OS_BATCH
    if (info->batch != NULL) os_batch_free(info->batch);
#endif
    info->batch = NULL;
}

static void free_info(SocketInfo *info) {
    if (info == NULL) return;
    godot_enet_dtls_destroy(info->dtls, 0);
    free_batch(info);
    free(info);
}

static int ipv6_disabled_by_user(void) {
    const char *value = getenv("GODOT_ENET_IPV4_ONLY");
    return value != NULL && value[0] != '\0' && strcmp(value, "0") != 0;
}

ENetSocket enet_socket_create(ENetSocketType type) {
    int kind = type == ENET_SOCKET_TYPE_DATAGRAM ? SOCK_DGRAM : SOCK_STREAM;
    int family = AF_INET6;
    ENetSocket socket = ipv6_disabled_by_user() ? ENET_SOCKET_NULL : os_socket_open(AF_INET6, kind);
    if (socket == ENET_SOCKET_NULL) {
        family = AF_INET;
        socket = os_socket_open(AF_INET, kind);
        if (socket == ENET_SOCKET_NULL) return ENET_SOCKET_NULL;
    }
    int slot = os_socket_slot(socket);
    if (slot >= 0) {
        SocketInfo *info = calloc(1, sizeof *info);
        if (info == NULL) {
            os_socket_close(socket);
            return ENET_SOCKET_NULL;
        }
        info->family = family;
        SocketInfo *old = atomic_exchange_explicit(&sockets[slot], info, memory_order_acq_rel);
        free_info(old); /* left behind by a socket closed outside enet_socket_destroy */
    }
    return socket;
}

void enet_socket_destroy(ENetSocket socket) {
    if (socket == ENET_SOCKET_NULL) return;
    /* DTLS hook: close_notify to every session while the socket can still send it. */
    SocketInfo *info = info_of(socket);
    if (info != NULL && info->dtls != NULL) {
        godot_enet_dtls_destroy(info->dtls, 1);
        info->dtls = NULL;
    }
    int slot = os_socket_slot(socket);
    if (slot >= 0) free_info(atomic_exchange_explicit(&sockets[slot], NULL, memory_order_acq_rel));
    os_socket_close(socket);
}

int godot_enet_socket_batch_receives(ENetSocket socket) {
#ifdef SOCKET_OS_BATCH
    SocketInfo *info = info_of(socket);
    if (info == NULL) return -1;
    if (info->batch != NULL || info->dtls != NULL) return 0;
    info->batch = os_batch_create();
    return info->batch != NULL ? 0 : -1;
#else
    (void) socket;
    return -1;
#endif
}

int godot_enet_socket_set_dtls(ENetSocket socket, GodotENetDtls *dtls) {
    SocketInfo *info = info_of(socket);
    if (info == NULL) return -1;
    free_batch(info);
    info->dtls = dtls;
    return 0;
}

static int is_v4_mapped(const struct in6_addr *address) {
    static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(address->s6_addr, prefix, 12) == 0;
}

static int is_unspecified(const struct in6_addr *address) {
    static const uint8_t zero[16] = { 0 };
    return memcmp(address->s6_addr, zero, 16) == 0;
}

/* ENet address -> sockaddr for this socket's family. Returns the length, or 0 if the address cannot
 * be reached through this socket (an IPv6 address on an IPv4-only socket). */
static socklen_t to_sockaddr(int family, const ENetAddress *address, struct sockaddr_storage *out) {
    memset(out, 0, sizeof *out);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *) out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(address->port);
        if (is_v4_mapped(&address->host)) memcpy(&sin->sin_addr, address->host.s6_addr + 12, 4);
        else if (!is_unspecified(&address->host)) return 0;
        return sizeof *sin;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) out;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(address->port);
    sin6->sin6_addr = address->host;
    sin6->sin6_scope_id = address->sin6_scope_id;
    return sizeof *sin6;
}

static void from_sockaddr(const struct sockaddr_storage *in, ENetAddress *address) {
    memset(address, 0, sizeof *address);
    if (in->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *) in;
        address->host.s6_addr[10] = 0xff;
        address->host.s6_addr[11] = 0xff;
        memcpy(address->host.s6_addr + 12, &sin->sin_addr, 4);
        address->port = ntohs(sin->sin_port);
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) in;
        address->host = sin6->sin6_addr;
        address->port = ntohs(sin6->sin6_port);
        address->sin6_scope_id = (enet_uint16) sin6->sin6_scope_id;
    }
}

static int family_of(ENetSocket socket) {
    SocketInfo *info = info_of(socket);
    return info ? info->family : AF_INET6;
}

int enet_socket_bind(ENetSocket socket, const ENetAddress *address) {
    ENetAddress any;
    struct sockaddr_storage storage;
    if (address == NULL) {
        memset(&any, 0, sizeof any);
        address = &any;
    }
    socklen_t length = to_sockaddr(family_of(socket), address, &storage);
    if (length == 0) return -1; /* an IPv6 address on an IPv4-only socket */
    return bind(socket, (struct sockaddr *) &storage, length) == 0 ? 0 : -1;
}

int enet_socket_get_address(ENetSocket socket, ENetAddress *address) {
    struct sockaddr_storage storage;
    socklen_t length = sizeof storage;
    if (getsockname(socket, (struct sockaddr *) &storage, &length) != 0) return -1;
    from_sockaddr(&storage, address);
    return 0;
}

int enet_socket_send(ENetSocket socket, const ENetAddress *address, const ENetBuffer *buffers, size_t bufferCount) {
    /* DTLS hook: an upgraded host's datagrams leave as DTLS records (dtls_layer.c). */
    SocketInfo *info = info_of(socket);
    if (info != NULL && info->dtls != NULL) return godot_enet_dtls_send(info->dtls, address, buffers, bufferCount);
    return godot_enet_socket_send_plain(socket, address, buffers, bufferCount);
}

int godot_enet_socket_send_plain(ENetSocket socket, const ENetAddress *address, const ENetBuffer *buffers, size_t bufferCount) {
    SocketInfo *info = info_of(socket);
    struct sockaddr_storage storage;
    socklen_t length = 0;
    if (address != NULL) {
        length = to_sockaddr(info ? info->family : AF_INET6, address, &storage);
        if (length == 0) {
            if (info) info->stats.sendErrors++;
            return 0;
        }
    }
    for (;;) {
        size_t sent = 0;
        switch (os_send(socket, address != NULL ? (struct sockaddr *) &storage : NULL, length, buffers, bufferCount, &sent)) {
            case SOCKET_DONE: return (int) sent;
            case SOCKET_INTERRUPTED:
                if (info) info->stats.interruptedCalls++;
                continue;
            case SOCKET_WOULD_BLOCK: return 0;
            case SOCKET_BROKEN: return -1;
            default:
                /* This datagram is lost, like any other loss; ENet retransmits what is reliable. */
                if (info) info->stats.sendErrors++;
                return 0;
        }
    }
}

int enet_socket_receive(ENetSocket socket, ENetAddress *address, ENetBuffer *buffers, size_t bufferCount) {
    /* DTLS hook: an upgraded host receives decrypted records (dtls_layer.c). */
    SocketInfo *info = info_of(socket);
    if (info != NULL && info->dtls != NULL) return godot_enet_dtls_receive(info->dtls, address, buffers, bufferCount);
    return godot_enet_socket_receive_plain(socket, address, buffers, bufferCount);
}

int godot_enet_socket_receive_plain(ENetSocket socket, ENetAddress *address, ENetBuffer *buffers, size_t bufferCount) {
    SocketInfo *info = info_of(socket);
    struct sockaddr_storage from;
    for (;;) {
        size_t received = 0;
        SocketOutcome outcome;
#ifdef SOCKET_OS_BATCH
        if (info != NULL && info->batch != NULL) outcome = os_batch_receive(info->batch, socket, &from, buffers, bufferCount, &received);
        else
#endif
        outcome = os_receive(socket, &from, buffers, bufferCount, &received);
        switch (outcome) {
            case SOCKET_DONE:
                if (received == 0) {
                    if (info) info->stats.emptyDropped++;
                    return -2;
                }
                if (address != NULL) from_sockaddr(&from, address);
                return (int) received;
            case SOCKET_INTERRUPTED:
                if (info) info->stats.interruptedCalls++;
                continue;
            case SOCKET_WOULD_BLOCK: return 0;
            case SOCKET_TRUNCATED:
                if (info) info->stats.oversizedDropped++;
                return -2;
            case SOCKET_TRANSIENT:
                if (info) info->stats.receiveErrors++;
                return -2;
            default: return -1;
        }
    }
}

int godot_enet_resolve(const char *name, uint8_t out[16]) {
    struct addrinfo hints, *results = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(name, NULL, &hints, &results) != 0 || results == NULL) return -1;
    ENetAddress address;
    struct sockaddr_storage storage;
    memset(&storage, 0, sizeof storage);
    memcpy(&storage, results->ai_addr, results->ai_addrlen);
    freeaddrinfo(results);
    from_sockaddr(&storage, &address);
    memcpy(out, address.host.s6_addr, 16);
    return 0;
}

void godot_enet_format_address(const uint8_t address[16], char *out, unsigned outLength) {
    struct in6_addr host;
    memcpy(host.s6_addr, address, 16);
    const char *ok = is_v4_mapped(&host) ? inet_ntop(AF_INET, address + 12, out, outLength)
                                         : inet_ntop(AF_INET6, &host, out, outLength);
    if (ok == NULL && outLength > 0) out[0] = '\0';
}

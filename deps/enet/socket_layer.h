/* Our socket layer for ENet: see socket_layer.c. */
#ifndef GODOT_ENET_SOCKET_LAYER_H
#define GODOT_ENET_SOCKET_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "enet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the socket layer did with one host socket's traffic that ENet never hears about. */
typedef struct GodotENetSocketStats {
    uint64_t oversizedDropped;   /* datagrams longer than ENet's 4096-byte buffer, skipped */
    uint64_t emptyDropped;       /* zero-length datagrams, skipped (ENet would stop reading at one) */
    uint64_t receiveErrors;      /* transient receive errors (ICMP echoes, EINTR storms), skipped */
    uint64_t sendErrors;         /* datagrams the kernel refused to send (unreachable, no route), dropped */
    uint64_t interruptedCalls;   /* system calls retried after EINTR */
} GodotENetSocketStats;

typedef struct GodotENetDtls GodotENetDtls;

/* Counters for a socket created by ENet through this layer, or NULL if the socket is unknown. */
const GodotENetSocketStats *godot_enet_socket_stats(ENetSocket socket);

/* 6 for a dual-stack IPv6 socket, 4 for an IPv4 socket (the fallback when IPv6 is unavailable). */
int godot_enet_socket_family(ENetSocket socket);

/* Reads this socket's datagrams in batches (recvmmsg) from now on; for busy sockets, i.e. servers.
 * Costs about 64 KiB. Returns 0 on success, -1 where the OS has no batch receive (only Linux has). */
int godot_enet_socket_batch_receives(ENetSocket socket);

/* DTLS hook: from now on ENet's sends and receives on `socket` go through `dtls` (dtls_layer.c), which
 * owns the socket's traffic and uses the *_plain functions below for the datagrams themselves. The socket
 * takes ownership: enet_socket_destroy sends close_notify on every session and frees it. Receives stop
 * being batched, since a batch slot holds only 4096 bytes. Returns 0, or -1 for an unknown socket. */
int godot_enet_socket_set_dtls(ENetSocket socket, GodotENetDtls *dtls);

/* enet_socket_send / enet_socket_receive without the DTLS hook: one datagram as it is on the wire. */
int godot_enet_socket_send_plain(ENetSocket socket, const ENetAddress *address, const ENetBuffer *buffers, size_t bufferCount);
int godot_enet_socket_receive_plain(ENetSocket socket, ENetAddress *address, ENetBuffer *buffers, size_t bufferCount);

/* Resolves a host name or literal to ENet's 16-byte form (IPv4 as ::ffff:a.b.c.d). Blocking, like
 * Godot's. Returns 0 on success. */
int godot_enet_resolve(const char *name, uint8_t out[16]);

/* Formats a 16-byte address as Godot does: "a.b.c.d" for IPv4-mapped addresses, else IPv6 text. */
void godot_enet_format_address(const uint8_t address[16], char *out, unsigned outLength);

#ifdef __cplusplus
}
#endif

#endif

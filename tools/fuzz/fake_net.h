/* A harness-only socket layer and clock for ENet (see fake_net.c), and the interpreter of the
 * enet_receive_fuzz input format, shared by the fuzz target and its seed generator.
 *
 * Input format (all integers little-endian):
 *   byte 0   config: bits 0-2 compression mode % 5 (Godot's CompressionMode: 0 none, 1 range coder,
 *            2 FastLZ, 3 zlib, 4 zstd); bit 3 role (0 server, 1 client that connects to source 0);
 *            bits 4-5 peer count {32, 1, 2, 4} (a client always has 1); bit 6 channel limit 4
 *            instead of ENet's maximum; bit 7 bandwidth limits on
 *   byte 1   config: bit 0 start the clock just before the 32-bit wrap
 *   then operations, each an opcode byte `op` and its arguments, until the input ends:
 *   op & 7 = 0, 1, 2, 7  DATAGRAM  u16 length, then that many bytes (fewer if the input ends), queued
 *            on the host's socket as a datagram from source (op >> 3) & 3 (0-2: ::ffff:127.0.0.1 ports
 *            40000-40002, 3: ::1 port 40003). Bit 5 of op: the harness compresses the datagram body
 *            with the host's current codec and sets the header's compressed flag, so inputs reach the
 *            decompressors with valid data. A length above 4096 queues an oversized datagram, and a
 *            length of 0 an empty one, which the receive then skips (-2) as deps/enet/socket_layer.c does.
 *   op & 7 = 3  TIME       u16 milliseconds to advance the clock by
 *   op & 7 = 4  SERVICE    service the host until it is idle, as binding/host.cc's Drain does
 *   op & 7 = 5  ACTION     three bytes a, b, c: what the API does to the host (send, broadcast,
 *            disconnect, reset, ping, timeouts, throttle, bandwidth and channel limits, flush, connect,
 *            change of compressor), see fz_action
 *   op & 7 = 6  FAULT      one byte: the next receive fails transiently (-2, even) or hard (-1, odd)
 * At the end the host is serviced until idle and destroyed. */
#ifndef GODOT_ENET_FAKE_NET_H
#define GODOT_ENET_FAKE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "enet.h"

#define FZ_SOURCES 4
#define FZ_MAX_DATAGRAM ENET_PROTOCOL_MAXIMUM_MTU

enum { FZ_OP_DATAGRAM = 0, FZ_OP_TIME = 3, FZ_OP_SERVICE = 4, FZ_OP_ACTION = 5, FZ_OP_FAULT = 6 };
enum { FZ_COMPRESS_BIT = 0x20 };

/* The virtual clock enet_time_get returns. */
extern uint32_t fz_now;

/* Address of source i (0..3). */
void fz_source_address(int index, ENetAddress *out);

/* Fake sockets: bound addresses and a queue of datagrams each; sends go to fz_route (if set) or
 * nowhere. */
typedef void (*FzRoute)(ENetSocket from, const ENetAddress *fromAddress, const ENetAddress *to,
                        const uint8_t *data, size_t length);
extern FzRoute fz_route;
int fz_enqueue(ENetSocket socket, const ENetAddress *from, const uint8_t *data, size_t length);
int fz_enqueue_fault(ENetSocket socket, int result);
int fz_socket_address(ENetSocket socket, ENetAddress *out);
ENetSocket fz_socket_at(const ENetAddress *address);

typedef struct FzSession {
  ENetHost *host;
  int client;
  int mode;         /* the host's current compression mode */
  size_t events, receives, bytes, serviceErrors;
} FzSession;

/* Creates the fuzzed host from the two config bytes. Returns 0, or -1 if it could not be made. */
int fz_begin(FzSession *s, uint8_t config0, uint8_t config1);
/* Applies the operation at data[0]; returns the bytes it used (at least 1). */
size_t fz_apply(FzSession *s, const uint8_t *data, size_t size);
/* Services until idle, then destroys the host. */
void fz_end(FzSession *s);
/* Services the host until idle (binding/host.cc's Drain). */
void fz_drain(FzSession *s);

/* The harness's own codec for `mode` (1..4), made once; NULL for 0. */
ENetCompressor *fz_codec(int mode);

/* Aborts with a message: a broken invariant is a finding like any sanitizer report. */
void fz_fail(const char *message);

#endif

/* Harness-only definitions of ENet's socket functions (the header's are left out by patch 0016) and
 * replacements for its clock and socket options (they override the weak ones of enet_fuzz_impl.c), and
 * the interpreter of the enet_receive_fuzz input format (see fake_net.h).
 *
 * Sockets are slots in a table, never real descriptors: a "datagram" is queued by the harness and
 * handed to ENet's receive path exactly as deps/enet/socket_layer.c hands over a real one (whole, or
 * -2 when it does not fit the buffer), sends are checked and dropped (or routed to another fake
 * socket by the seed generator). */
#include "fake_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compressors.h"

uint32_t fz_now = 1000;
FzRoute fz_route = NULL;

void fz_fail(const char *message) {
  fprintf(stderr, "enet fuzz invariant broken: %s\n", message);
  abort();
}

enet_uint32 enet_time_get(void) { return fz_now; }

/* ------------------------------------------------------------------------------------------------
 * Fake sockets */

#define FZ_SOCKETS 8
#define FZ_FD_BASE 1000
#define FZ_QUEUE_MAX 512

typedef struct {
  int result; /* 0: a datagram; -1 or -2: what the receive returns instead */
  ENetAddress from;
  size_t length;
  uint8_t *data;
} Entry;

typedef struct {
  int used;
  ENetAddress address;
  Entry queue[FZ_QUEUE_MAX];
  size_t head, count;
} FakeSocket;

static FakeSocket sockets[FZ_SOCKETS];

static FakeSocket *socket_of(ENetSocket socket) {
  if (socket < FZ_FD_BASE || socket >= FZ_FD_BASE + FZ_SOCKETS) return NULL;
  FakeSocket *s = &sockets[socket - FZ_FD_BASE];
  return s->used ? s : NULL;
}

static void loopback_v4(ENetAddress *a, uint16_t port) {
  memset(a, 0, sizeof *a);
  a->host.s6_addr[10] = 0xff;
  a->host.s6_addr[11] = 0xff;
  a->host.s6_addr[12] = 127;
  a->host.s6_addr[15] = 1;
  a->port = port;
}

void fz_source_address(int index, ENetAddress *out) {
  if (index == 3) {
    memset(out, 0, sizeof *out);
    out->host.s6_addr[15] = 1; /* ::1 */
    out->port = 40003;
    return;
  }
  loopback_v4(out, (uint16_t)(40000 + index));
}

ENetSocket enet_socket_create(ENetSocketType type) {
  (void)type;
  for (int i = 0; i < FZ_SOCKETS; i++) {
    if (!sockets[i].used) {
      memset(&sockets[i], 0, sizeof sockets[i]);
      sockets[i].used = 1;
      loopback_v4(&sockets[i].address, (uint16_t)(50000 + i)); /* an ephemeral port until bound */
      return FZ_FD_BASE + i;
    }
  }
  return ENET_SOCKET_NULL;
}

int enet_socket_bind(ENetSocket socket, const ENetAddress *address) {
  FakeSocket *s = socket_of(socket);
  if (s == NULL) return -1;
  if (address == NULL || address->port == 0) return 0;
  for (int i = 0; i < FZ_SOCKETS; i++) {
    if (sockets[i].used && &sockets[i] != s && sockets[i].address.port == address->port) return -1; /* in use */
  }
  if (memcmp(&address->host, &in6addr_any, sizeof address->host) == 0) loopback_v4(&s->address, address->port);
  else s->address = *address;
  return 0;
}

int enet_socket_get_address(ENetSocket socket, ENetAddress *address) {
  FakeSocket *s = socket_of(socket);
  if (s == NULL) return -1;
  *address = s->address;
  return 0;
}

int fz_socket_address(ENetSocket socket, ENetAddress *out) { return enet_socket_get_address(socket, out); }

ENetSocket fz_socket_at(const ENetAddress *address) {
  for (int i = 0; i < FZ_SOCKETS; i++) {
    if (sockets[i].used && sockets[i].address.port == address->port &&
        memcmp(&sockets[i].address.host, &address->host, sizeof address->host) == 0) {
      return FZ_FD_BASE + i;
    }
  }
  return ENET_SOCKET_NULL;
}

int enet_socket_set_option(ENetSocket socket, ENetSocketOption option, int value) {
  (void)option;
  (void)value;
  return socket_of(socket) ? 0 : -1;
}

int enet_socket_get_option(ENetSocket socket, ENetSocketOption option, int *value) {
  (void)option;
  *value = 0;
  return socket_of(socket) ? 0 : -1;
}

int enet_socket_wait(ENetSocket socket, enet_uint32 *condition, enet_uint64 timeout) {
  (void)socket;
  (void)timeout;
  *condition = ENET_SOCKET_WAIT_NONE; /* the harness services with timeout 0; never blocks */
  return 0;
}

static int push(FakeSocket *s, int result, const ENetAddress *from, const uint8_t *data, size_t length) {
  if (s->head + s->count >= FZ_QUEUE_MAX) {
    if (s->head == 0) return -1; /* full: dropped, like a kernel buffer overflow */
    memmove(s->queue, s->queue + s->head, s->count * sizeof(Entry));
    s->head = 0;
  }
  Entry *e = &s->queue[s->head + s->count];
  memset(e, 0, sizeof *e);
  e->result = result;
  if (from != NULL) e->from = *from;
  if (result == 0) {
    e->data = (uint8_t *)malloc(length ? length : 1);
    if (e->data == NULL) return -1;
    if (length) memcpy(e->data, data, length);
    e->length = length;
  }
  s->count++;
  return 0;
}

int fz_enqueue(ENetSocket socket, const ENetAddress *from, const uint8_t *data, size_t length) {
  FakeSocket *s = socket_of(socket);
  if (s == NULL) return -1;
  /* What deps/enet/socket_layer.c does with a datagram longer than its buffer, or an empty one (ENet
   * would take its length 0 for "nothing more to read"): skips it (-2). */
  if (length > FZ_MAX_DATAGRAM || length == 0) return push(s, -2, from, NULL, 0);
  return push(s, 0, from, data, length);
}

int fz_enqueue_fault(ENetSocket socket, int result) {
  FakeSocket *s = socket_of(socket);
  return s ? push(s, result, NULL, NULL, 0) : -1;
}

int enet_socket_receive(ENetSocket socket, ENetAddress *address, ENetBuffer *buffers, size_t bufferCount) {
  FakeSocket *s = socket_of(socket);
  if (s == NULL) return -1;
  if (s->count == 0) return 0;
  Entry e = s->queue[s->head++];
  if (--s->count == 0) s->head = 0;
  if (e.result != 0) return e.result;
  int length = (int)e.length;
  if (bufferCount < 1 || buffers[0].dataLength < e.length) {
    length = -2; /* as the real layer: a datagram that does not fit is skipped, never truncated */
  } else {
    memcpy(buffers[0].data, e.data, e.length);
    if (address != NULL) *address = e.from;
  }
  free(e.data);
  return length;
}

int enet_socket_send(ENetSocket socket, const ENetAddress *address, const ENetBuffer *buffers, size_t bufferCount) {
  FakeSocket *s = socket_of(socket);
  if (s == NULL) return -1;
  static uint8_t datagram[FZ_MAX_DATAGRAM];
  size_t total = 0;
  for (size_t i = 0; i < bufferCount; i++) {
    if (buffers[i].dataLength > FZ_MAX_DATAGRAM - total) {
      fz_fail("ENet assembled a datagram longer than ENET_PROTOCOL_MAXIMUM_MTU");
    }
    /* Reading every byte lets AddressSanitizer check what ENet points its buffers at. */
    if (buffers[i].dataLength) memcpy(datagram + total, buffers[i].data, buffers[i].dataLength);
    total += buffers[i].dataLength;
  }
  if (fz_route != NULL && address != NULL) fz_route(socket, &s->address, address, datagram, total);
  return (int)total;
}

void enet_socket_destroy(ENetSocket socket) {
  FakeSocket *s = socket_of(socket);
  if (s == NULL) return;
  for (size_t i = 0; i < s->count; i++) free(s->queue[s->head + i].data);
  memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------------------------------
 * The interpreter */

static const size_t PEER_COUNTS[4] = {32, 1, 2, 4};

ENetCompressor *fz_codec(int mode) {
  static ENetCompressor codecs[5];
  static int made[5];
  if (mode < 1 || mode > 4) return NULL;
  if (!made[mode]) {
    if (godot_enet_compressor_create(mode, &codecs[mode]) != 0) fz_fail("cannot create a codec");
    made[mode] = 1;
  }
  return &codecs[mode];
}

static void set_compression(FzSession *s, int mode) {
  if (mode == 0) {
    enet_host_compress(s->host, NULL);
  } else {
    ENetCompressor c;
    if (godot_enet_compressor_create(mode, &c) != 0) fz_fail("cannot create a codec");
    enet_host_compress(s->host, &c);
  }
  s->mode = mode;
}

int fz_begin(FzSession *s, uint8_t config0, uint8_t config1) {
  memset(s, 0, sizeof *s);
  fz_now = (config1 & 1) ? 0xfffff000u : 1000;
  s->client = (config0 >> 3) & 1;
  size_t peers = PEER_COUNTS[(config0 >> 4) & 3];
  size_t channels = (config0 & 0x40) ? 4 : 0;
  enet_uint32 in = (config0 & 0x80) ? 56000 : 0, out = (config0 & 0x80) ? 14000 : 0;
  ENetAddress bind;
  memset(&bind, 0, sizeof bind);
  bind.port = 7777;
  s->host = enet_host_create(s->client ? NULL : &bind, peers, channels, in, out);
  if (s->host == NULL) return -1;
  s->host->randomSeed = 0x5eed5eedu; /* connect IDs from the seed, the same in every run */
  enet_host_flush(s->host);
  if (s->host->serviceTime != fz_now) fz_fail("the clock override is not in effect (weak symbols ignored?)");
  int mode = (config0 & 7) % 5;
  if (mode != 0) set_compression(s, mode);
  if (s->client) {
    ENetAddress server;
    fz_source_address(0, &server);
    if (enet_host_connect(s->host, &server, channels ? channels : 8, 0) == NULL) fz_fail("client connect failed");
  }
  return 0;
}

static void fz_event(FzSession *s, const ENetEvent *event) {
  ENetHost *host = s->host;
  s->events++;
  if (event->peer == NULL || event->peer < host->peers || event->peer >= host->peers + host->peerCount) {
    fz_fail("event for a peer outside the host's table");
  }
  if (host->connectedPeers > host->peerCount) fz_fail("more connected peers than slots");
  if (event->type == ENET_EVENT_TYPE_RECEIVE) {
    ENetPacket *packet = event->packet;
    if (packet == NULL) fz_fail("receive event without a packet");
    if (event->channelID >= event->peer->channelCount) fz_fail("packet on a channel the peer does not have");
    if (packet->dataLength > host->maximumPacketSize) fz_fail("packet larger than maximumPacketSize");
    /* Read it all, as the binding copies it into a JS Buffer. */
    uint32_t sum = 0;
    for (size_t i = 0; i < packet->dataLength; i++) sum = sum * 31 + packet->data[i];
    s->bytes += packet->dataLength + (sum & 1);
    s->receives++;
    enet_packet_destroy(packet);
  } else if (event->packet != NULL) {
    fz_fail("packet with a non-receive event");
  }
}

void fz_drain(FzSession *s) {
  ENetEvent event;
  int io = 1;
  for (int count = 0; count < 4096;) {
    int result = io ? enet_host_service(s->host, &event, 0) : enet_host_check_events(s->host, &event);
    if (result < 0) { /* counted, never fatal: as the binding */
      s->serviceErrors++;
      if (!io) break;
      io = 0;
      continue;
    }
    if (result == 0) break;
    fz_event(s, &event);
    count++;
  }
}

static uint8_t pattern[40000];

static void fz_action(FzSession *s, uint8_t a, uint8_t b, uint8_t c) {
  ENetHost *host = s->host;
  ENetPeer *peer = &host->peers[b % host->peerCount];
  static const size_t base[4] = {0, 200, 1300, 4000};
  static const size_t step[4] = {1, 16, 64, 512};
  if (pattern[1] == 0) {
    for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (uint8_t)(i * 7 + (i >> 8));
  }
  switch (a & 15) {
    case 0:   /* ENetPacketPeer.send */
    case 1: { /* ENetConnection.broadcast */
      size_t size = base[c >> 6] + (size_t)(c & 63) * step[c >> 6];
      enet_uint32 flags = 0;
      if (b & 0x20) flags |= ENET_PACKET_FLAG_RELIABLE;
      if (b & 0x40) flags |= ENET_PACKET_FLAG_UNSEQUENCED;
      if (b & 0x80) flags |= ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT;
      enet_uint8 channel = (enet_uint8)(a >> 4);
      ENetPacket *packet = enet_packet_create(pattern, size, flags);
      if (packet == NULL) fz_fail("packet allocation failed");
      if ((a & 15) == 1) {
        enet_host_broadcast(host, channel, packet);
      } else if (channel > peer->channelCount || enet_peer_send(peer, channel, packet) < 0) {
        enet_packet_destroy(packet); /* refused: ours to free, as in binding/peer.cc */
      }
      break;
    }
    case 2: enet_peer_disconnect(peer, c); break;
    case 3: enet_peer_disconnect_later(peer, c); break;
    case 4: enet_peer_disconnect_now(peer, c); break;
    case 5: enet_peer_reset(peer); break;
    case 6: enet_peer_ping(peer); break;
    case 7: enet_peer_ping_interval(peer, (enet_uint32)c * 16); break;
    case 8: enet_peer_timeout(peer, b & 31, (enet_uint32)c * 40, (enet_uint32)c * 160); break;
    case 9: enet_peer_throttle_configure(peer, (enet_uint32)c * 8, b & 31, (enet_uint32)(b >> 5) * 4); break;
    case 10: enet_host_bandwidth_limit(host, (enet_uint32)b * 4000, (enet_uint32)c * 4000); break;
    case 11: enet_host_channel_limit(host, c); break;
    case 12: enet_host_flush(host); break;
    case 13: { /* createMesh / addMeshPeer, or another connection */
      ENetAddress to;
      fz_source_address(b & 3, &to);
      enet_host_connect(host, &to, 1 + (c % 8), c);
      break;
    }
    case 14: set_compression(s, c % 5); break;
    default: { /* checkEvents: dispatch without socket I/O */
      ENetEvent event;
      for (int i = 0; i < 4096 && enet_host_check_events(host, &event) > 0; i++) fz_event(s, &event);
      break;
    }
  }
}

/* Compresses the body of a datagram with the host's current codec, as the sending ENet would. */
static size_t compress_datagram(int mode, const uint8_t *in, size_t n, uint8_t *out) {
  if (n < 2) return 0;
  size_t header = (in[0] & 0x80) ? 4 : 2; /* peer ID, and the sent time when flagged */
  ENetCompressor *codec = fz_codec(mode);
  if (codec == NULL || n <= header) return 0;
  ENetBuffer body = {.data = (void *)(in + header), .dataLength = n - header};
  size_t size = codec->compress(codec->context, &body, 1, n - header, out + header, n - header);
  if (size == 0) return 0;
  memcpy(out, in, header);
  out[0] |= 0x40; /* ENET_PROTOCOL_HEADER_FLAG_COMPRESSED (bit 14 of the big-endian peer ID) */
  return header + size;
}

size_t fz_apply(FzSession *s, const uint8_t *data, size_t size) {
  uint8_t op = data[0];
  switch (op & 7) {
    case FZ_OP_TIME:
      if (size < 3) return size;
      fz_now += (uint32_t)data[1] | ((uint32_t)data[2] << 8);
      return 3;
    case FZ_OP_SERVICE:
      fz_drain(s);
      return 1;
    case FZ_OP_ACTION:
      if (size < 4) return size;
      fz_action(s, data[1], data[2], data[3]);
      return 4;
    case FZ_OP_FAULT:
      if (size < 2) return size;
      fz_enqueue_fault(s->host->socket, (data[1] & 1) ? -1 : -2);
      return 2;
    default: { /* DATAGRAM */
      if (size < 3) return size;
      size_t length = (size_t)data[1] | ((size_t)data[2] << 8);
      size_t n = length < size - 3 ? length : size - 3;
      ENetAddress from;
      fz_source_address((op >> 3) & 3, &from);
      if (length > FZ_MAX_DATAGRAM) {
        fz_enqueue(s->host->socket, &from, NULL, length); /* skipped as oversized */
      } else {
        static uint8_t packed[FZ_MAX_DATAGRAM];
        size_t p = (op & FZ_COMPRESS_BIT) && s->mode != 0 ? compress_datagram(s->mode, data + 3, n, packed) : 0;
        if (p > 0) fz_enqueue(s->host->socket, &from, packed, p);
        else fz_enqueue(s->host->socket, &from, data + 3, n);
      }
      return 3 + n;
    }
  }
}

void fz_end(FzSession *s) {
  fz_drain(s);
  enet_host_destroy(s->host);
  s->host = NULL;
}

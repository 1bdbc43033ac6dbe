/* Seed corpus for enet_receive_fuzz: real ENet traffic, captured.
 *
 * The host under test (the "target", driven through fz_apply exactly as the fuzz target drives it)
 * talks to one or two real ENet peers over the harness's fake sockets. Every datagram a peer sends to
 * the target is written to the seed as a DATAGRAM operation (compressed datagrams as their plaintext
 * with the "harness compresses" bit, so that mutations of a seed still reach the command parser;
 * the "-raw" seeds keep them as sent), followed by the same SERVICE, TIME and ACTION operations the
 * target received. Replaying a seed therefore repeats the target's side of the conversation byte
 * for byte, which main() checks before writing it.
 *
 * It also writes the (simpler) seeds of compressors_fuzz and socket_layer_fuzz.
 *
 *   enet_seedgen <enet_receive dir> <compressors dir> <socket_layer dir> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compressors.h"
#include "fake_net.h"

typedef struct {
  uint8_t *data;
  size_t size, capacity;
} Bytes;

static Bytes seed;
static FzSession target;
static int raw;

static void put(const void *p, size_t n) {
  if (seed.size + n > seed.capacity) {
    seed.capacity = (seed.size + n) * 2;
    seed.data = (uint8_t *)realloc(seed.data, seed.capacity);
    if (seed.data == NULL) abort();
  }
  memcpy(seed.data + seed.size, p, n);
  seed.size += n;
}

/* Writes an operation to the seed and applies it to the target. */
static void emit(const uint8_t *op, size_t n) {
  size_t at = seed.size;
  put(op, n);
  if (fz_apply(&target, seed.data + at, n) != n) {
    fprintf(stderr, "seedgen: operation length mismatch\n");
    exit(1);
  }
}

static void emit_time(unsigned ms) {
  uint8_t op[3] = {FZ_OP_TIME, (uint8_t)ms, (uint8_t)(ms >> 8)};
  emit(op, 3);
}

static void emit_service(void) {
  uint8_t op = FZ_OP_SERVICE;
  emit(&op, 1);
}

static void emit_action(uint8_t a, uint8_t b, uint8_t c) {
  uint8_t op[4] = {FZ_OP_ACTION, a, b, c};
  emit(op, 4);
}

/* Datagrams the peers sent to the target since the last flush. */
typedef struct {
  int source;
  size_t length;
  uint8_t data[FZ_MAX_DATAGRAM];
} Captured;
static Captured captured[512];
static int capturedCount;

static int source_index(const ENetAddress *address) {
  for (int i = 0; i < FZ_SOURCES; i++) {
    ENetAddress s;
    fz_source_address(i, &s);
    if (s.port == address->port && memcmp(&s.host, &address->host, sizeof s.host) == 0) return i;
  }
  return -1;
}

static void route(ENetSocket from, const ENetAddress *fromAddress, const ENetAddress *to, const uint8_t *data,
                  size_t length) {
  (void)from;
  ENetSocket destination = fz_socket_at(to);
  if (destination == ENET_SOCKET_NULL) return;
  if (target.host != NULL && destination == target.host->socket) {
    int source = source_index(fromAddress);
    if (source < 0 || capturedCount == 512) {
      fprintf(stderr, "seedgen: datagram from an unexpected address\n");
      exit(1);
    }
    captured[capturedCount].source = source;
    captured[capturedCount].length = length;
    memcpy(captured[capturedCount].data, data, length);
    capturedCount++;
    return;
  }
  fz_enqueue(destination, fromAddress, data, length);
}

static void flush_captured(void) {
  for (int i = 0; i < capturedCount; i++) {
    Captured *c = &captured[i];
    uint8_t op[3 + FZ_MAX_DATAGRAM + 8];
    size_t n = c->length;
    op[0] = (uint8_t)(FZ_OP_DATAGRAM | (c->source << 3));
    memcpy(op + 3, c->data, n);
    if (!raw && (c->data[0] & 0x40) && target.mode != 0) {
      /* A compressed datagram: store its plaintext and let the harness compress it on replay. */
      size_t header = (c->data[0] & 0x80) ? 4 : 2;
      ENetCompressor *codec = fz_codec(target.mode);
      size_t plain = codec->decompress(codec->context, c->data + header, c->length - header, op + 3 + header,
                                       FZ_MAX_DATAGRAM - header);
      if (plain == 0) {
        fprintf(stderr, "seedgen: a peer's compressed datagram does not decode\n");
        exit(1);
      }
      op[3] &= (uint8_t)~0x40;
      op[0] |= FZ_COMPRESS_BIT;
      n = header + plain;
    }
    op[1] = (uint8_t)n;
    op[2] = (uint8_t)(n >> 8);
    emit(op, 3 + n);
  }
  capturedCount = 0;
}

typedef struct {
  ENetHost *host;
  ENetPeer *peer; /* its connection to the target */
  int connected, disconnected;
  size_t received;
} Peer;

static void service_peer(Peer *p) {
  if (p->host == NULL) return;
  ENetEvent event;
  for (int i = 0; i < 1000 && enet_host_service(p->host, &event, 0) > 0; i++) {
    switch (event.type) {
      case ENET_EVENT_TYPE_CONNECT:
        p->connected = 1;
        p->peer = event.peer;
        break;
      case ENET_EVENT_TYPE_DISCONNECT:
      case ENET_EVENT_TYPE_DISCONNECT_TIMEOUT:
        p->disconnected = 1;
        break;
      case ENET_EVENT_TYPE_RECEIVE:
        p->received++;
        enet_packet_destroy(event.packet);
        break;
      default:
        break;
    }
  }
}

static void make_peer(Peer *p, int source, size_t peerCount, int mode) {
  memset(p, 0, sizeof *p);
  ENetAddress address;
  fz_source_address(source, &address);
  p->host = enet_host_create(&address, peerCount, 0, 0, 0);
  if (p->host == NULL) {
    fprintf(stderr, "seedgen: peer host\n");
    exit(1);
  }
  if (mode != 0) {
    ENetCompressor c;
    godot_enet_compressor_create(mode, &c);
    enet_host_compress(p->host, &c);
  }
}

static void peer_send(Peer *p, enet_uint8 channel, size_t size, enet_uint32 flags, uint8_t fill) {
  uint8_t *data = (uint8_t *)malloc(size);
  for (size_t i = 0; i < size; i++) data[i] = (uint8_t)(fill + (i % 24 < 8 ? i / 24 : i % 24));
  ENetPacket *packet = enet_packet_create(data, size, flags);
  free(data);
  if (enet_peer_send(p->peer, channel, packet) < 0) enet_packet_destroy(packet);
}

/* One round: peers talk, the target hears it all, then the clock moves. */
static void tick(Peer *peers, int count, unsigned ms) {
  for (int i = 0; i < count; i++) service_peer(&peers[i]);
  flush_captured();
  emit_service();
  for (int i = 0; i < count; i++) service_peer(&peers[i]);
  flush_captured();
  emit_service();
  emit_time(ms);
}

static void connect_to_target(Peer *p) {
  ENetAddress address;
  fz_socket_address(target.host->socket, &address);
  p->peer = enet_host_connect(p->host, &address, 8, 0);
}

/* Traffic a game sends: small reliable and unreliable state, unsequenced, fragments of both kinds. */
static void game_traffic(Peer *p, Peer *all, int count, int rounds) {
  for (int r = 0; r < rounds; r++) {
    peer_send(p, 0, 12 + r, ENET_PACKET_FLAG_RELIABLE, (uint8_t)r);
    peer_send(p, 1, 40, 0, 0x10);
    peer_send(p, 2, 20, ENET_PACKET_FLAG_UNSEQUENCED, 0x20);
    if (r == 1) peer_send(p, 3, 5000, ENET_PACKET_FLAG_RELIABLE, 0x30);
    if (r == 2) peer_send(p, 4, 3000, ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT, 0x40);
    if (r == 3) peer_send(p, 5, 2600, 0, 0x50); /* unreliable but too big: sent as reliable fragments */
    /* The target answers: reliable to slot 0 (large, fragmented), unreliable, a ping. */
    if (r == 1) emit_action(0x00 | (0 << 4), 0x20, 0x80 | 10); /* send 1300 + 640 bytes reliable, channel 0 */
    if (r == 2) emit_action(0x10, 0x00, 0x40 | 3);               /* send 248 bytes unreliable, channel 1 */
    if (r == 3) emit_action(0x01, 0x20, 30);                    /* broadcast 30 bytes reliable */
    if (r == 4) emit_action(0x06, 0x00, 0);                     /* ping */
    tick(all, count, 15 + (unsigned)r * 3);
  }
}

static void finish(Peer *peers, int count) {
  for (int i = 0; i < count; i++) {
    if (peers[i].host != NULL) enet_host_destroy(peers[i].host);
  }
}

/* Server target, one client; `big`: packets of more than 32 fragments, reliable and unreliable (the
 * fragment bitmaps' second word and bit 31 of the first). */
static void scenario_server(int mode, int big) {
  Peer client;
  make_peer(&client, 0, 1, mode);
  connect_to_target(&client);
  for (int i = 0; i < 20 && !client.connected; i++) tick(&client, 1, 10);
  if (big) {
    peer_send(&client, 0, 45000, ENET_PACKET_FLAG_RELIABLE, 0x60);
    peer_send(&client, 1, 45000, ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT, 0x70);
    for (int i = 0; i < 30; i++) tick(&client, 1, 5);
  }
  game_traffic(&client, &client, 1, big ? 2 : 10);
  enet_peer_disconnect(client.peer, 7);
  for (int i = 0; i < 10 && !client.disconnected; i++) tick(&client, 1, 10);
  finish(&client, 1);
}

/* Client target (connected by fz_begin to source 0), a server peer that sends and then disconnects it. */
static void scenario_client(int mode) {
  Peer server;
  make_peer(&server, 0, 4, mode);
  for (int i = 0; i < 20 && !server.connected; i++) tick(&server, 1, 10);
  game_traffic(&server, &server, 1, 8);
  enet_peer_disconnect(server.peer, 3);
  for (int i = 0; i < 10 && !server.disconnected; i++) tick(&server, 1, 10);
  finish(&server, 1);
}

/* Server target, two clients (IPv4 and IPv6 sources); one vanishes and is timed out, the other leaves. */
static void scenario_timeout(int mode) {
  Peer clients[2];
  make_peer(&clients[0], 1, 1, mode);
  make_peer(&clients[1], 3, 1, mode);
  connect_to_target(&clients[0]);
  connect_to_target(&clients[1]);
  for (int i = 0; i < 20 && !(clients[0].connected && clients[1].connected); i++) tick(clients, 2, 10);
  game_traffic(&clients[0], clients, 2, 4);
  game_traffic(&clients[1], clients, 2, 2);
  enet_host_destroy(clients[0].host); /* vanishes without a word */
  clients[0].host = NULL;
  emit_action(0x00, 0x20, 50); /* the server keeps sending to it reliably */
  for (int i = 0; i < 12; i++) tick(clients, 2, 1000);
  enet_peer_disconnect_now(clients[1].peer, 0);
  tick(clients, 2, 10);
  finish(clients, 2);
}

static void write_seed(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(seed.data, 1, seed.size, f) != seed.size) {
    fprintf(stderr, "seedgen: cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
}

/* Replays the seed on a fresh host with nothing routed, as the fuzz target does; it must see the same. */
static void check_replay(const FzSession *recorded, const char *name) {
  FzSession s;
  FzRoute saved = fz_route;
  fz_route = NULL;
  if (fz_begin(&s, seed.data[0], seed.data[1]) != 0) exit(1);
  for (size_t at = 2; at < seed.size;) at += fz_apply(&s, seed.data + at, seed.size - at);
  size_t receives = s.receives, events = s.events;
  fz_end(&s);
  fz_route = saved;
  if (receives != recorded->receives || events != recorded->events) {
    fprintf(stderr, "seedgen: %s does not replay (%zu/%zu receives, %zu/%zu events)\n", name, receives,
            recorded->receives, events, recorded->events);
    exit(1);
  }
}

static void generate(const char *dir, const char *name, uint8_t config0, uint8_t config1, int rawMode, int kind) {
  seed.size = 0;
  raw = rawMode;
  put(&config0, 1);
  put(&config1, 1);
  if (fz_begin(&target, config0, config1) != 0) exit(1);
  int mode = config0 & 7;
  if (kind == 0) scenario_server(mode, 0);
  else if (kind == 3) scenario_server(mode, 1);
  else if (kind == 1) scenario_client(mode);
  else scenario_timeout(mode);
  flush_captured();
  emit_service();
  FzSession recorded = target;
  /* fz_end services once more; a replay does the same, so compare after it. */
  fz_end(&target);
  recorded.events = target.events;
  recorded.receives = target.receives;
  if (recorded.receives == 0) {
    fprintf(stderr, "seedgen: %s: the target received nothing\n", name);
    exit(1);
  }
  check_replay(&recorded, name);
  write_seed(dir, name);
  printf("%s: %zu bytes, target saw %zu events, %zu packets\n", name, seed.size, recorded.events, recorded.receives);
}

/* ------------------------------------------------------------------------------------------------
 * Seeds of the other C targets */

static void write_bytes(const char *dir, const char *name, const uint8_t *data, size_t n) {
  seed.size = 0;
  put(data, n);
  write_seed(dir, name);
}

/* compressors_fuzz: [mode - 1][selector][data]: valid compressed datagram bodies of each codec (so the
 * decoders start from real streams) and plain bodies (round trips). */
static void compressor_seeds(const char *dir) {
  static const char *texts[] = {
    "position velocity player health position velocity player health ammo team 0.000 0.000",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "{\"id\":1,\"x\":0.5,\"y\":-2.25}{\"id\":2,\"x\":0.5,\"y\":-2.25}{\"id\":3,\"x\":0.5,\"y\":-2.25}",
  };
  uint8_t plain[1400], packed[2 + 1600];
  char name[64];
  for (int mode = 1; mode <= 4; mode++) {
    ENetCompressor *codec = fz_codec(mode);
    for (int t = 0; t < 4; t++) {
      size_t n;
      if (t < 3) {
        n = strlen(texts[t]);
        memcpy(plain, texts[t], n);
      } else { /* an ENet-like datagram body: command headers and a counter */
        n = sizeof plain;
        for (size_t i = 0; i < n; i++) plain[i] = (uint8_t)((i % 12) < 4 ? (i / 12) : 0x10 + (i % 12));
      }
      ENetBuffer b = {.data = plain, .dataLength = n};
      size_t size = codec->compress(codec->context, &b, 1, n, packed + 2, n);
      if (size == 0) continue;
      packed[0] = (uint8_t)(mode - 1);
      packed[1] = 0; /* decode with ENet's receive limit */
      snprintf(name, sizeof name, "m%d-compressed-%d", mode, t);
      write_bytes(dir, name, packed, size + 2);
      packed[1] = 0x0d; /* round trip split over two buffers */
      memcpy(packed + 2, plain, n);
      snprintf(name, sizeof name, "m%d-plain-%d", mode, t);
      write_bytes(dir, name, packed, n + 2);
    }
  }
}

/* socket_layer_fuzz: operations (0 format, 1 resolve, 2 open, 3 send, 4 receive, 5 reopen). */
static void socket_seeds(const char *dir) {
  static const uint8_t format[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1, 64,
                                   0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 10};
  write_bytes(dir, "format", format, sizeof format);
  static const char *literals[] = {"127.0.0.1", "::1", "::ffff:10.1.2.3", "fe80::1%1", "1.2.3", "2001:db8::ff00:42:8329",
                                   "localhost", "0x7f.1", "::", "256.1.1.1"};
  uint8_t buffer[512];
  size_t n = 0;
  for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
    size_t len = strlen(literals[i]);
    buffer[n++] = 1;
    buffer[n++] = (uint8_t)len;
    memcpy(buffer + n, literals[i], len);
    n += len;
  }
  write_bytes(dir, "resolve", buffer, n);
  /* Sessions: open (flags), sends (u16 length, split), receives (capacity selector). */
  static const uint8_t flags[] = {0x00, 0x02, 0x01, 0x03, 0x04, 0x06, 0x08, 0x0c};
  static const uint16_t lengths[] = {100, 0, 4097, 4096, 1500, 4200, 1, 20};
  for (size_t f = 0; f < sizeof flags; f++) {
    n = 0;
    buffer[n++] = 2;
    buffer[n++] = flags[f];
    for (int round = 0; round < 2; round++) {
      for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        buffer[n++] = 3;
        buffer[n++] = (uint8_t)lengths[i];
        buffer[n++] = (uint8_t)(lengths[i] >> 8);
        buffer[n++] = (uint8_t)(i * 0x25);
      }
      for (size_t i = 0; i < 12; i++) {
        buffer[n++] = 4;
        buffer[n++] = (uint8_t)(i % 4 + (i << 2));
      }
    }
    buffer[n++] = 5; /* reopen */
    buffer[n++] = flags[(f + 1) % sizeof flags];
    buffer[n++] = 3;
    buffer[n++] = 10;
    buffer[n++] = 0;
    buffer[n++] = 0;
    buffer[n++] = 4;
    buffer[n++] = 0;
    char name[32];
    snprintf(name, sizeof name, "session-%02x", flags[f]);
    write_bytes(dir, name, buffer, n);
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: enet_seedgen <enet_receive dir> <compressors dir> <socket_layer dir>\n");
    return 2;
  }
  fz_route = route;
  char name[64];
  for (int mode = 0; mode <= 4; mode++) {
    snprintf(name, sizeof name, "server-m%d", mode);
    generate(argv[1], name, (uint8_t)mode, 0, 0, 0);
    snprintf(name, sizeof name, "client-m%d", mode);
    generate(argv[1], name, (uint8_t)(mode | 0x08 | 0x10), 0, 0, 1);
    if (mode != 0) {
      snprintf(name, sizeof name, "server-m%d-raw", mode);
      generate(argv[1], name, (uint8_t)mode, 0, 1, 0);
    }
  }
  generate(argv[1], "timeout-m0", 0x20, 0, 0, 2);
  generate(argv[1], "timeout-m2", 0x22, 0, 0, 2);
  generate(argv[1], "limits-m0", 0xc0, 0, 0, 0);     /* channel limit 4, bandwidth limits */
  generate(argv[1], "clockwrap-m3", 0x03, 1, 0, 0);  /* the clock wraps around 2^32 mid-session */
  generate(argv[1], "bigfragments-m0", 0x00, 0, 0, 3); /* packets of 34 fragments */
  compressor_seeds(argv[2]);
  socket_seeds(argv[3]);
  free(seed.data);
  return 0;
}

/* libFuzzer target: deps/enet/socket_layer.c itself, on real loopback sockets (enet_receive_fuzz
 * replaces this layer by a fake one, so this is where the real one is fuzzed).
 *
 * An input is a script of operations; the harness keeps a model of what each receive must return and
 * checks the layer against it after every call:
 *   FORMAT    godot_enet_format_address on 16 arbitrary bytes into an exact-size output of 0..64
 *             bytes: always NUL-terminated, equal to inet_ntop's text ("a.b.c.d" for ::ffff:a.b.c.d)
 *             when it fits, "" when it does not
 *   RESOLVE   godot_enet_resolve on an arbitrary string, literals only (getaddrinfo is linked through
 *             a wrapper that adds AI_NUMERICHOST, so nothing is ever looked up): what inet_pton
 *             accepts must resolve to the same address, and a resolved address must format to text
 *             that resolves back to it
 *   OPEN      a receiving and a sending socket from enet_socket_create (dual-stack or the IPv4
 *             fallback, forced through GODOT_ENET_IPV4_ONLY), bound to loopback, the receiver
 *             optionally in batched (recvmmsg) mode
 *   SEND      a datagram of 0..4200 bytes from the sender to the receiver, split over 1-3 ENetBuffers
 *             (lengths over 4096 are the oversized datagrams the layer must skip)
 *   RECV      enet_socket_receive into one buffer of 4096 bytes, exactly the next datagram's size, one
 *             byte less, or 1..64 bytes: returns the datagram whole with the sender's address, -2 when
 *             it does not fit (counted in oversizedDropped) or is empty (counted in emptyDropped), or 0
 *             when there is nothing (the batched mode's "drained" shortcut modelled exactly)
 *   REOPEN    the receiver's descriptor closed behind the layer's back, then a new socket (reusing the
 *             descriptor: the stale table entry must be replaced, not leaked)
 * Traffic only ever goes between two sockets of this process on 127.0.0.1 / ::1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "enet.h"
#include "socket_layer.h"

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
  struct addrinfo h;
  if (hints != NULL) h = *hints;
  else memset(&h, 0, sizeof h);
  h.ai_flags |= AI_NUMERICHOST; /* literals only: never DNS */
  return __real_getaddrinfo(node, service, &h, res);
}

static void fail(const char *what, long a, long b) {
  fprintf(stderr, "socket layer fuzz: %s (%ld, %ld)\n", what, a, b);
  abort();
}

#define MAX_LENGTH 4200
#define CAPACITY 4096  /* ENet's receive buffer, and the layer's DATAGRAM_CAPACITY */
#define BATCH 16       /* the layer's RECEIVE_BATCH */
#define MAX_OUTSTANDING 16

static uint8_t payload[MAX_LENGTH];

typedef struct {
  int open;
  ENetSocket receiver, sender;
  int batched, receiverV4, senderV4;
  ENetAddress receiverAddress, senderAddress;
  /* The model: datagrams in the kernel's queue, datagrams the layer has pulled (a batch), the flag. */
  size_t kernel[64], kernelCount;
  size_t pulled[BATCH], pulledNext, pulledCount;
  uint8_t kernelTag[64], pulledTag[BATCH];
  int drained;
  uint64_t oversized, empty;
  uint8_t tag;
} Session;

static void format_op(const uint8_t *d) {
  size_t length = d[16] % 65;
  char *out = (char *)malloc(length ? length : 1);
  if (length) memset(out, 'X', length);
  godot_enet_format_address(d, out, (unsigned)length);
  char expected[INET6_ADDRSTRLEN + 1];
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  const char *ok = memcmp(d, mapped, 12) == 0 ? inet_ntop(AF_INET, d + 12, expected, sizeof expected)
                                              : inet_ntop(AF_INET6, d, expected, sizeof expected);
  if (ok == NULL) fail("inet_ntop failed on 16 bytes", 0, 0);
  if (length > 0) {
    if (memchr(out, 0, length) == NULL) fail("formatted address not NUL-terminated", (long)length, 0);
    if (strlen(expected) < length) {
      if (strcmp(out, expected) != 0) fail("formatted address differs from inet_ntop", (long)length, 0);
    } else if (out[0] != 0) {
      fail("formatted address does not fit but is not empty", (long)length, (long)strlen(expected));
    }
  }
  free(out);
}

static void resolve_op(const uint8_t *d, size_t n) {
  char *name = (char *)malloc(n + 1);
  memcpy(name, d, n);
  name[n] = 0;
  uint8_t out[16], v6[16], v4[4];
  int result = godot_enet_resolve(name, out);
  if (inet_pton(AF_INET6, name, v6) == 1) {
    if (result != 0 || memcmp(out, v6, 16) != 0) fail("an IPv6 literal resolves to something else", result, 0);
  } else if (inet_pton(AF_INET, name, v4) == 1) {
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (result != 0 || memcmp(out, mapped, 12) != 0 || memcmp(out + 12, v4, 4) != 0) {
      fail("an IPv4 literal does not resolve to ::ffff:a.b.c.d", result, 0);
    }
  }
  if (result == 0) {
    char text[64];
    uint8_t back[16];
    godot_enet_format_address(out, text, sizeof text);
    if (godot_enet_resolve(text, back) != 0 || memcmp(back, out, 16) != 0) fail("format/resolve round trip differs", 0, 0);
  }
  free(name);
}

static void loopback(ENetAddress *a, int v6) {
  memset(a, 0, sizeof *a);
  if (v6) {
    a->host.s6_addr[15] = 1;
  } else {
    a->host.s6_addr[10] = a->host.s6_addr[11] = 0xff;
    a->host.s6_addr[12] = 127;
    a->host.s6_addr[15] = 1;
  }
}

static ENetSocket make_socket(int v4only, int wantV6, ENetAddress *bound, int *isV4) {
  if (v4only) setenv("GODOT_ENET_IPV4_ONLY", "1", 1);
  ENetSocket s = enet_socket_create(ENET_SOCKET_TYPE_DATAGRAM);
  if (v4only) unsetenv("GODOT_ENET_IPV4_ONLY");
  if (s == ENET_SOCKET_NULL) fail("enet_socket_create failed", errno, 0);
  *isV4 = godot_enet_socket_family(s) == 4;
  if (v4only && !*isV4) fail("GODOT_ENET_IPV4_ONLY=1 gave an IPv6 socket", 0, 0);
  fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK); /* what ENet's set_option(NONBLOCK) does */
  int size = 1 << 20;
  setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  ENetAddress address;
  loopback(&address, wantV6);
  if (enet_socket_bind(s, &address) != 0) {
    if (!(wantV6 && *isV4)) fail("bind to loopback failed", errno, wantV6);
    if (errno != EAFNOSUPPORT) fail("IPv6 bind on an IPv4 socket: wrong errno", errno, 0);
    loopback(&address, 0);
    if (enet_socket_bind(s, &address) != 0) fail("bind to 127.0.0.1 failed", errno, 0);
  }
  if (enet_socket_get_address(s, bound) != 0) fail("get_address failed", errno, 0);
  if (bound->port == 0) fail("bound to port 0", 0, 0);
  return s;
}

static void close_session(Session *s) {
  if (!s->open) return;
  enet_socket_destroy(s->receiver);
  enet_socket_destroy(s->sender);
  if (godot_enet_socket_stats(s->receiver) != NULL) fail("stats outlive enet_socket_destroy", s->receiver, 0);
  s->open = 0;
}

static void open_session(Session *s, uint8_t flags) {
  close_session(s);
  memset(s, 0, sizeof *s);
  s->receiver = make_socket(flags & 1, (flags >> 2) & 1, &s->receiverAddress, &s->receiverV4);
  /* The sender binds where the receiver is: a socket bound to ::ffff:127.0.0.1 cannot reach ::1. */
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  int receiverOnV6 = memcmp(s->receiverAddress.host.s6_addr, mapped, 12) != 0;
  s->sender = make_socket((flags >> 3) & 1, receiverOnV6, &s->senderAddress, &s->senderV4);
  if ((flags >> 1) & 1) {
    if (godot_enet_socket_batch_receives(s->receiver) != 0) fail("batch_receives failed", 0, 0);
    s->batched = 1;
  }
  s->open = 1;
}

static int reachable(const Session *s) {
  /* An IPv4-only sender cannot reach ::1: the layer drops such a send (sendErrors), sends nothing. */
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return !s->senderV4 || memcmp(s->receiverAddress.host.s6_addr, mapped, 12) == 0;
}

static void send_op(Session *s, const uint8_t *d) {
  if (!s->open || s->kernelCount == MAX_OUTSTANDING) return;
  size_t length = ((size_t)d[0] | ((size_t)d[1] << 8)) % (MAX_LENGTH + 1);
  uint8_t tag = ++s->tag;
  for (size_t i = 0; i < length; i++) payload[i] = (uint8_t)(tag + i * 13);
  ENetBuffer buffers[3];
  size_t count = 1 + d[2] % 3, at = 0;
  for (size_t i = 0; i < count; i++) {
    size_t len = i + 1 == count ? length - at : (length - at) * ((d[2] >> (2 + 2 * i)) & 3) / 4;
    buffers[i].data = payload + at;
    buffers[i].dataLength = len;
    at += len;
  }
  const GodotENetSocketStats *stats = godot_enet_socket_stats(s->sender);
  uint64_t errorsBefore = stats->sendErrors;
  int sent = enet_socket_send(s->sender, &s->receiverAddress, buffers, count);
  if (getenv("SOCKET_FUZZ_TRACE") != NULL) {
    fprintf(stderr, "send: %zu bytes in %zu buffers -> %d (sendErrors %llu, reachable %d, sender v4 %d, receiver v4 %d)\n", length,
            count, sent, (unsigned long long)stats->sendErrors, reachable(s), s->senderV4, s->receiverV4);
  }
  if (!reachable(s)) {
    if (sent != 0 || stats->sendErrors != errorsBefore + 1) fail("unreachable send not dropped and counted", sent, 0);
    return;
  }
  if (sent != (int)length) fail("send did not send the whole datagram", sent, (long)length);
  s->kernel[s->kernelCount] = length;
  s->kernelTag[s->kernelCount] = tag;
  s->kernelCount++;
}

/* What the next receive must return, per the model; advances the model. */
static long expect_next(Session *s, size_t capacity, size_t *length, uint8_t *tag) {
  if (s->batched) {
    if (s->pulledNext == s->pulledCount) {
      if (s->drained) {
        s->drained = 0;
        return 0;
      }
      if (s->kernelCount == 0) return 0; /* recvmmsg: EAGAIN, the flag stays as it is */
      size_t k = s->kernelCount < BATCH ? s->kernelCount : BATCH;
      memcpy(s->pulled, s->kernel, k * sizeof(size_t));
      memcpy(s->pulledTag, s->kernelTag, k);
      memmove(s->kernel, s->kernel + k, (s->kernelCount - k) * sizeof(size_t));
      memmove(s->kernelTag, s->kernelTag + k, s->kernelCount - k);
      s->kernelCount -= k;
      s->pulledCount = k;
      s->pulledNext = 0;
      s->drained = k < BATCH;
    }
    *length = s->pulled[s->pulledNext];
    *tag = s->pulledTag[s->pulledNext];
    s->pulledNext++;
  } else {
    if (s->kernelCount == 0) return 0;
    *length = s->kernel[0];
    *tag = s->kernelTag[0];
    memmove(s->kernel, s->kernel + 1, (s->kernelCount - 1) * sizeof(size_t));
    memmove(s->kernelTag, s->kernelTag + 1, s->kernelCount - 1);
    s->kernelCount--;
  }
  if (*length == 0) {
    s->empty++; /* skipped and counted: ENet would take 0 for "nothing more to read" */
    return -2;
  }
  if (*length > CAPACITY || *length > capacity) {
    s->oversized++; /* skipped whole, never truncated, and counted, in both modes */
    return -2;
  }
  return (long)*length;
}

static void recv_op(Session *s, uint8_t how) {
  if (!s->open) return;
  size_t head = s->batched && s->pulledNext < s->pulledCount ? s->pulled[s->pulledNext]
                : s->kernelCount > 0 ? s->kernel[0] : 0;
  size_t capacities[4] = {CAPACITY, head, head ? head - 1 : 0, 1 + (size_t)(how >> 2) % 64};
  size_t capacity = capacities[how & 3];
  if (capacity > CAPACITY) capacity = CAPACITY;
  uint8_t *buffer = (uint8_t *)malloc(capacity ? capacity : 1);
  ENetBuffer b = {.data = buffer, .dataLength = capacity};
  ENetAddress from;
  memset(&from, 0xee, sizeof from);
  size_t length = 0;
  uint8_t tag = 0;
  long expected = expect_next(s, capacity, &length, &tag);
  int got = enet_socket_receive(s->receiver, &from, &b, 1);
  if (getenv("SOCKET_FUZZ_TRACE") != NULL) {
    fprintf(stderr, "recv: capacity %zu, batched %d, expected %ld (length %zu), got %d; kernel %zu, pulled %zu/%zu, drained %d\n",
            capacity, s->batched, expected, length, got, s->kernelCount, s->pulledNext, s->pulledCount, s->drained);
  }
  if (got != expected) fail("receive returned something else than the model", got, expected);
  if (got > 0) {
    for (size_t i = 0; i < length; i++) {
      if (buffer[i] != (uint8_t)(tag + i * 13)) fail("received bytes differ", (long)i, (long)length);
    }
    if (from.port != s->senderAddress.port || memcmp(&from.host, &s->senderAddress.host, 16) != 0) {
      fail("received from another address than the sender's", from.port, s->senderAddress.port);
    }
  }
  const GodotENetSocketStats *stats = godot_enet_socket_stats(s->receiver);
  if (stats == NULL || stats->oversizedDropped != s->oversized) {
    fail("oversizedDropped differs from the model", stats ? (long)stats->oversizedDropped : -1, (long)s->oversized);
  }
  if (stats->emptyDropped != s->empty) fail("emptyDropped differs from the model", (long)stats->emptyDropped, (long)s->empty);
  free(buffer);
}

static void reopen_op(Session *s, uint8_t flags) {
  if (!s->open) return;
  close(s->receiver); /* behind the layer's back: its table entry for this descriptor goes stale */
  enet_socket_destroy(s->sender);
  s->open = 0;
  open_session(s, flags); /* the new receiver most likely reuses the descriptor */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Session s;
  memset(&s, 0, sizeof s);
  size_t at = 0;
  for (int ops = 0; at < size && ops < 256; ops++) {
    uint8_t op = data[at++];
    size_t left = size - at;
    const uint8_t *d = data + at;
    switch (op % 6) {
      case 0:
        if (left < 17) { at = size; break; }
        format_op(d);
        at += 17;
        break;
      case 1: {
        if (left < 1) { at = size; break; }
        size_t n = d[0] % 48;
        if (n > left - 1) n = left - 1;
        resolve_op(d + 1, n);
        at += 1 + n;
        break;
      }
      case 2:
        if (left < 1) { at = size; break; }
        open_session(&s, d[0]);
        at += 1;
        break;
      case 3:
        if (left < 3) { at = size; break; }
        send_op(&s, d);
        at += 3;
        break;
      case 4:
        if (left < 1) { at = size; break; }
        recv_op(&s, d[0]);
        at += 1;
        break;
      default:
        if (left < 1) { at = size; break; }
        reopen_op(&s, d[0]);
        at += 1;
        break;
    }
  }
  close_session(&s);
  return 0;
}

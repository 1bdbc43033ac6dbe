/* libFuzzer target: ENet's whole receive path (the pinned zpl enet.c 2.1.2 with deps/enet/patches
 * applied, and our compressors), fed arbitrary datagrams.
 *
 * One input is one host's life: the first two bytes configure it (server or client, peer count,
 * compression mode, ...), the rest is a script of datagrams from up to four source addresses,
 * clock advances, service calls, API actions (sends, disconnects, resets, timeouts, ...) and socket
 * faults; see fake_net.h for the format. The seed corpus (enet_seedgen.c) holds real traffic between
 * two ENet hosts in every compression mode, so the fuzzer starts past the handshake. The host is
 * destroyed at the end of every input, so whatever ENet still holds is freed or reported as a leak
 * by LeakSanitizer. Any sanitizer report or broken invariant (fz_fail) is a crash. */
#include <stddef.h>
#include <stdint.h>

#include "fake_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  FzSession session;
  if (fz_begin(&session, data[0], data[1]) != 0) return 0;
  size_t at = 2;
  while (at < size) at += fz_apply(&session, data + at, size - at);
  fz_end(&session);
  return 0;
}

/* libFuzzer target: the ENet compressors of deps/enet/compressors.c (range coder wrapper, FastLZ,
 * zlib, zstd) through the very callbacks ENet calls, on arbitrary input, with every buffer allocated
 * at its exact size so that one byte read or written past a limit is a sanitizer report.
 *
 * Input: byte 0 picks the mode (1 range coder, 2 FastLZ, 3 zlib, 4 zstd), byte 1 the output limit
 * and how the input is split into ENet buffers; the rest is the data. Per input:
 *   1. decompress the data (as a received datagram body) into an exact-size output of the chosen
 *      limit: the result never exceeds the limit; what decodes decodes the same again, also into an
 *      output of exactly its size, and fails (0) one byte short (the range coder excepted, see below);
 *   2. compress the data split over 1-4 ENet buffers, as ENet sends a datagram (inLimit = outLimit =
 *      the body size), and decompress the result: it must give the data back exactly (FastLZ:
 *      zero-padded to 16 bytes, as Godot pads), and be smaller than the data (our codecs return only
 *      what is smaller, Godot's rule);
 *   3. FastLZ: the raw block functions as well, with a capacity from byte 1, and a round trip with
 *      the worst-case capacity (n + n/32 + 1), which must succeed.
 * The range coder (ENet's own compress.c) has no length: its decoder may emit a byte or two past the
 * original, which ENet's command parser ignores (the same in upstream ENet and Godot); checked as
 * such. Its one known ISO-C shift UB (`*inData++ << 24`) is not instrumented (-fno-sanitize=shift
 * for that file only), as in test/helpers/compression-harness.ts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compressors.h"

#define MAX_DATAGRAM 4096
#define RECEIVE_LIMIT (MAX_DATAGRAM - 2) /* ENet: sizeof packetData[1] - headerSize (2, or 4 with sentTime) */

static void fail(const char *what, int mode, size_t a, size_t b) {
  fprintf(stderr, "compressors fuzz: %s (mode %d, %zu, %zu)\n", what, mode, a, b);
  abort();
}

/* Decompresses in[0, n) from an exact-size copy into an exact-size output of `limit` bytes. */
static size_t decompress_exact(ENetCompressor *c, const uint8_t *in, size_t n, size_t limit, uint8_t **kept) {
  uint8_t *copy = (uint8_t *)malloc(n ? n : 1);
  if (n) memcpy(copy, in, n);
  uint8_t *out = (uint8_t *)malloc(limit ? limit : 1);
  size_t got = c->decompress(c->context, copy, n, out, limit);
  free(copy);
  if (kept != NULL) *kept = out;
  else free(out);
  return got;
}

static void check_decompress(ENetCompressor *c, int mode, const uint8_t *in, size_t n, size_t limit) {
  uint8_t *out = NULL;
  size_t got = decompress_exact(c, in, n, limit, &out);
  if (got > limit) fail("decoded past the output limit", mode, got, limit);
  if (got > 0 && mode != GODOT_ENET_COMPRESS_RANGE_CODER) {
    uint8_t *again = NULL;
    if (decompress_exact(c, in, n, got, &again) != got) fail("does not decode into exactly its size", mode, got, n);
    if (memcmp(out, again, got) != 0) fail("decodes differently the second time", mode, got, n);
    free(again);
    if (decompress_exact(c, in, n, got - 1, NULL) != 0) fail("decoded into one byte less than its size", mode, got, n);
  }
  free(out);
}

static void check_round_trip(ENetCompressor *c, int mode, const uint8_t *in, size_t n, uint8_t split) {
  if (n == 0 || n > MAX_DATAGRAM) return;
  /* Exact-size copies of the pieces, as ENet's buffers point into separate packets. */
  ENetBuffer buffers[4];
  size_t count = 1 + (split & 3), at = 0;
  for (size_t i = 0; i < count; i++) {
    size_t len = i + 1 == count ? n - at : (n - at) * ((split >> (2 + i * 2)) & 3) / 4;
    uint8_t *piece = (uint8_t *)malloc(len ? len : 1);
    if (len) memcpy(piece, in + at, len);
    buffers[i].data = piece;
    buffers[i].dataLength = len;
    at += len;
  }
  uint8_t *packed = (uint8_t *)malloc(n);
  size_t size = c->compress(c->context, buffers, count, n, packed, n);
  for (size_t i = 0; i < count; i++) free(buffers[i].data);
  if (size > n) fail("compressed past outLimit", mode, size, n);
  if (size > 0 && size == n && mode != GODOT_ENET_COMPRESS_RANGE_CODER) fail("returned a result not smaller", mode, size, n);
  if (size > 0) {
    uint8_t *back = NULL;
    size_t got = decompress_exact(c, packed, size, RECEIVE_LIMIT, &back);
    if (mode == GODOT_ENET_COMPRESS_RANGE_CODER) {
      if (got < n || got > n + 2 || memcmp(back, in, n) != 0) fail("range coder round trip differs", mode, n, got);
    } else {
      size_t expect = (mode == GODOT_ENET_COMPRESS_FASTLZ && n < 16) ? 16 : n;
      if (got != expect || memcmp(back, in, n) != 0) fail("round trip differs", mode, n, got);
      for (size_t k = n; k < expect; k++) {
        if (back[k] != 0) fail("FastLZ padding is not zeros", mode, n, k);
      }
    }
    free(back);
  }
  free(packed);
}

static void check_fastlz_blocks(const uint8_t *in, size_t n, uint8_t sel) {
  /* Arbitrary blocks into a small exact-size output. */
  size_t capacity = (size_t)sel * 17 + 1;
  uint8_t *out = (uint8_t *)malloc(capacity);
  size_t got = godot_enet_fastlz_decompress(in, n, out, capacity);
  if (got > capacity) fail("FastLZ block decoded past capacity", GODOT_ENET_COMPRESS_FASTLZ, got, capacity);
  free(out);
  if (n == 0 || n > 65535) return;
  /* Round trips: any capacity may fail (0), never overflow; the worst case must succeed. */
  size_t worst = n + n / 32 + 1;
  size_t capacities[2] = {worst, (size_t)sel * n / 255};
  for (int i = 0; i < 2; i++) {
    size_t cap = capacities[i];
    uint8_t *block = (uint8_t *)malloc(cap ? cap : 1);
    size_t size = godot_enet_fastlz_compress(in, n, block, cap);
    if (size > cap) fail("FastLZ block larger than capacity", GODOT_ENET_COMPRESS_FASTLZ, size, cap);
    if (i == 0 && size == 0) fail("FastLZ block does not fit n + n/32 + 1", GODOT_ENET_COMPRESS_FASTLZ, n, cap);
    if (size > 0) {
      if (block[0] >= 32) fail("FastLZ block without the level-1 tag", GODOT_ENET_COMPRESS_FASTLZ, n, block[0]);
      uint8_t *back = (uint8_t *)malloc(n);
      size_t got2 = godot_enet_fastlz_decompress(block, size, back, n);
      if (got2 != n || memcmp(back, in, n) != 0) fail("FastLZ block round trip differs", GODOT_ENET_COMPRESS_FASTLZ, n, got2);
      free(back);
    }
    free(block);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  int mode = data[0] % 4 + 1;
  uint8_t sel = data[1];
  const uint8_t *in = data + 2;
  size_t n = size - 2;
  ENetCompressor c;
  if (godot_enet_compressor_create(mode, &c) != 0) fail("create", mode, 0, 0);
  size_t limits[4] = {RECEIVE_LIMIT, n, (size_t)(sel >> 2) * 16 + 1, MAX_DATAGRAM - 4};
  check_decompress(&c, mode, in, n, limits[sel & 3]);
  check_round_trip(&c, mode, in, n, sel);
  if (mode == GODOT_ENET_COMPRESS_FASTLZ) check_fastlz_blocks(in, n, sel);
  c.destroy(c.context);
  return 0;
}

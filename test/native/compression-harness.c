/* Test harness for deps/enet/compressors.c, built by test/helpers/compression-harness.ts with
 * AddressSanitizer and UndefinedBehaviorSanitizer (any out-of-bounds access or UB aborts the run).
 * It drives the very callbacks ENet calls (godot_enet_compressor_create), with every buffer allocated
 * at its exact size so that a single byte read or written past a limit is caught.
 *
 *   harness fuzz <seed> <iterations>    round trips and mutated inputs in every mode; prints stats
 *   harness batch <list-file>           one job per line:
 *       compress <mode> <in> <out>            the compress callback (ENet's rules: 0 = not smaller)
 *       block <mode> <in> <out>               compressed form even when not smaller (FastLZ only)
 *       decompress <mode> <in> <out> <limit>  the decompress callback; writes nothing on failure
 *
 * Modes are Godot's: 1 range coder, 2 FastLZ, 3 zlib, 4 zstd. Exit status 0 unless a check fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compressors.h"

/* What the range coder (compress.c, compiled in) needs from ENet, which this harness does not link. */
void *enet_malloc(size_t size) { return malloc(size); }
void enet_free(void *memory) { free(memory); }
void enet_host_compress(ENetHost *host, const ENetCompressor *compressor) {
  (void)host;
  (void)compressor;
}

#define MAX_DATAGRAM 4096
/* ENet's receive side: outLimit = 4096 - header (2 or 4 bytes). */
#define RECEIVE_LIMIT (MAX_DATAGRAM - 4)

static uint64_t rng_state;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}
static size_t rnd_below(size_t n) { return n == 0 ? 0 : rnd() % n; }

static int failures = 0;
#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      fprintf(stderr, "CHECK failed: %s: ", #cond);        \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, "\n");                               \
      failures++;                                          \
    }                                                      \
  } while (0)

/* Inputs like the ones ENet compresses: command headers with game data, text, runs, or noise. */
static void make_input(uint8_t *p, size_t n) {
  static const char *words[] = {"position", "velocity", "player", "health", "\"ammo\":", "team", "0.000", "{\"id\":"};
  switch (rnd_below(5)) {
    case 0:
      for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rnd();
      break;
    case 1:
      for (size_t i = 0; i < n;) {
        const char *w = words[rnd_below(8)];
        for (size_t k = 0; w[k] && i < n; k++) p[i++] = (uint8_t)w[k];
      }
      break;
    case 2:
      for (size_t i = 0; i < n;) {
        uint8_t v = (uint8_t)rnd();
        size_t run = 1 + rnd_below(300);
        for (size_t k = 0; k < run && i < n; k++) p[i++] = v;
      }
      break;
    case 3: /* a repeated short record with a counter, like game state */
      for (size_t i = 0; i < n; i++) p[i] = (uint8_t)((i % 12) < 4 ? (i / 12) & 0xff : 0x10 + (i % 12));
      break;
    default:
      for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(rnd_below(4) == 0 ? rnd() : "ENET"[i % 4]);
      break;
  }
}

/* Calls the compress callback with the input split into 1..4 ENet buffers. */
static size_t compress_split(ENetCompressor *c, const uint8_t *in, size_t n, uint8_t *out, size_t limit) {
  ENetBuffer buffers[4];
  size_t count = 1 + rnd_below(4);
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    size_t len = i + 1 == count ? n - at : rnd_below(n - at + 1);
    buffers[i].data = (void *)(in + at);
    buffers[i].dataLength = len;
    at += len;
  }
  return c->compress(c->context, buffers, count, n, out, limit);
}

/* Decompresses `in[0, n)` from an exact-size copy into an exact-size output of `limit` bytes. */
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

typedef struct {
  size_t inputs, compressed, inputBytes, compressedBytes, mutants, mutantsDecoded;
} Stats;

static void fuzz_mode(int mode, size_t iterations) {
  ENetCompressor c;
  CHECK(godot_enet_compressor_create(mode, &c) == 0, "create mode %d", mode);
  Stats s = {0};
  {
    /* An empty buffer in ENet's list (an empty packet's data), pointing just past an allocation. */
    uint8_t *a = (uint8_t *)malloc(40), *b = (uint8_t *)malloc(60);
    for (int k = 0; k < 40; k++) a[k] = (uint8_t)"position"[k % 8];
    for (int k = 0; k < 60; k++) b[k] = (uint8_t)"velocity"[k % 8];
    ENetBuffer list[3] = {{.data = a, .dataLength = 40}, {.data = a + 40, .dataLength = 0}, {.data = b, .dataLength = 60}};
    uint8_t packed[100], back[RECEIVE_LIMIT];
    size_t size = c.compress(c.context, list, 3, 100, packed, 100);
    CHECK(size > 0 && size < 100, "mode %d: empty buffer in the list", mode);
    size_t got = c.decompress(c.context, packed, size, back, sizeof back);
    CHECK(got >= 100 && memcmp(back, a, 40) == 0 && memcmp(back + 40, b, 60) == 0, "mode %d: empty buffer round trip", mode);
    free(a);
    free(b);
  }
  uint8_t *in = (uint8_t *)malloc(RECEIVE_LIMIT);
  for (size_t it = 0; it < iterations; it++) {
    size_t n = 1 + (rnd_below(3) == 0 ? rnd_below(40) : rnd_below(RECEIVE_LIMIT));
    make_input(in, n);
    uint8_t *packed = (uint8_t *)malloc(n); /* outLimit = inLimit, as ENet calls it */
    size_t size = compress_split(&c, in, n, packed, n);
    s.inputs++;
    s.inputBytes += n;
    if (size == 0) {
      free(packed);
      continue;
    }
    s.compressed++;
    s.compressedBytes += size;
    /* Ours return only what is smaller (Godot's rule); ENet's own range coder may return a result as
     * large as its input, which ENet then sends uncompressed. */
    if (mode == GODOT_ENET_COMPRESS_RANGE_CODER) CHECK(size <= n, "range coder: %zu bytes compressed to %zu", n, size);
    else CHECK(size < n, "mode %d: %zu bytes compressed to %zu", mode, n, size);
    if (mode == GODOT_ENET_COMPRESS_FASTLZ) CHECK(packed[0] < 32, "FastLZ level-1 tag");
    if (mode == GODOT_ENET_COMPRESS_ZLIB) CHECK(packed[0] == 0x78 && packed[1] == 0x9c, "zlib header");
    if (mode == GODOT_ENET_COMPRESS_ZSTD) CHECK(packed[0] == 0x28 && packed[1] == 0xb5 && packed[2] == 0x2f && packed[3] == 0xfd, "zstd magic");

    uint8_t *back = NULL;
    size_t got = decompress_exact(&c, packed, size, RECEIVE_LIMIT, &back);
    size_t expect = (mode == GODOT_ENET_COMPRESS_FASTLZ && n < 16) ? 16 : n; /* Godot's FastLZ padding */
    if (mode == GODOT_ENET_COMPRESS_RANGE_CODER) {
      /* ENet's range coder has no length: its decoder may add a byte or two past the end, which
       * ENet's command parser ignores (upstream behaviour, the same in Godot). */
      CHECK(got >= n && got <= n + 2, "range coder: round trip of %zu bytes gave %zu", n, got);
      if (got >= n) CHECK(memcmp(back, in, n) == 0, "range coder: round trip of %zu bytes (compressed %zu) differs", n, size);
    } else {
      CHECK(got == expect, "mode %d: round trip of %zu bytes gave %zu", mode, n, got);
      if (got == expect) CHECK(memcmp(back, in, n) == 0, "mode %d: round trip of %zu bytes differs", mode, n);
      /* Exactly the decoded size fits; one byte less must fail, not write past the end. */
      CHECK(decompress_exact(&c, packed, size, expect, NULL) == expect, "mode %d: exact limit", mode);
      CHECK(decompress_exact(&c, packed, size, expect - 1, NULL) == 0, "mode %d: limit one short", mode);
    }
    free(back);

    /* Mutants: truncated, bit-flipped, bytes overwritten, bytes inserted, garbage appended, spliced. */
    for (int m = 0; m < 24; m++) {
      size_t len = size;
      uint8_t *mutant = (uint8_t *)malloc(size + 64);
      memcpy(mutant, packed, size);
      switch (m % 6) {
        case 0: len = rnd_below(size); break;
        case 1: for (int k = 0, flips = 1 + (int)rnd_below(8); k < flips; k++) mutant[rnd_below(size)] ^= (uint8_t)(1u << rnd_below(8)); break;
        case 2: for (int k = 0, hits = 1 + (int)rnd_below(4); k < hits; k++) mutant[rnd_below(size)] = (uint8_t)rnd(); break;
        case 3: { size_t at = rnd_below(size); memmove(mutant + at + 1, mutant + at, size - at); mutant[at] = (uint8_t)rnd(); len = size + 1; } break;
        case 4: { size_t extra = 1 + rnd_below(64); for (size_t k = 0; k < extra; k++) mutant[size + k] = (uint8_t)rnd(); len = size + extra; } break;
        default: { size_t cut = rnd_below(size); for (size_t k = cut; k < size; k++) mutant[k] = mutant[rnd_below(size)]; } break;
      }
      size_t limits[3] = {RECEIVE_LIMIT, n, 1 + rnd_below(n)};
      size_t limit = limits[rnd_below(3)];
      size_t out = decompress_exact(&c, mutant, len, limit, NULL);
      CHECK(out <= limit, "mode %d: mutant decoded to %zu > limit %zu", mode, out, limit);
      s.mutants++;
      if (out > 0) s.mutantsDecoded++;
      free(mutant);
    }
    free(packed);

    /* Pure noise to the decoder, and inLimit values ENet produces for datagrams shorter than their
     * header (length - headerSize wrapping around). */
    size_t noise = rnd_below(RECEIVE_LIMIT + 1);
    uint8_t *junk = (uint8_t *)malloc(noise ? noise : 1);
    for (size_t k = 0; k < noise; k++) junk[k] = (uint8_t)rnd();
    size_t out = decompress_exact(&c, junk, noise, RECEIVE_LIMIT, NULL);
    CHECK(out <= RECEIVE_LIMIT, "mode %d: noise decoded past the limit", mode);
    free(junk);
  }
  {
    /* A valid compressed datagram passed with the lengths ENet computes for a datagram shorter than
     * its header ((size_t)-1, -2): refused, although the bytes at the pointer would decode. */
    uint8_t plain[200], packed[200], sink[RECEIVE_LIMIT];
    for (int k = 0; k < 200; k++) plain[k] = (uint8_t)"abcabd"[k % 6];
    ENetBuffer whole = {.data = plain, .dataLength = sizeof plain};
    size_t size = c.compress(c.context, &whole, 1, sizeof plain, packed, sizeof plain);
    CHECK(size > 0 && c.decompress(c.context, packed, size, sink, sizeof sink) >= sizeof plain, "mode %d: guard baseline", mode);
    CHECK(c.decompress(c.context, packed, (size_t)-1, sink, sizeof sink) == 0, "mode %d: wrapped inLimit -1", mode);
    CHECK(c.decompress(c.context, packed, (size_t)-2, sink, sizeof sink) == 0, "mode %d: wrapped inLimit -2", mode);
    CHECK(c.decompress(c.context, packed, MAX_DATAGRAM + 1, sink, sizeof sink) == 0, "mode %d: input over a datagram", mode);
    CHECK(c.decompress(c.context, packed, 0, sink, sizeof sink) == 0, "mode %d: empty", mode);
  }
  free(in);
  c.destroy(c.context);
  printf("mode %d: %zu inputs, %zu compressed (%zu -> %zu bytes), %zu mutants, %zu of them decoded to something\n", mode,
         s.inputs, s.compressed, s.inputBytes, s.compressedBytes, s.mutants, s.mutantsDecoded);
}

/* FastLZ blocks with known meaning, from the published format. */
static void fastlz_vectors(void) {
  struct { const char *name; uint8_t block[16]; size_t n; const char *plain; } v[] = {
    {"literal run", {0x02, 'A', 'B', 'C'}, 4, "ABC"},
    {"short match", {0x03, 'A', 'B', 'C', 'D', 0x20, 0x02}, 7, "ABCDBCD"},
    {"overlapping match", {0x00, 'a', 0x40, 0x00}, 4, "aaaaa"},
    {"long match", {0x01, 'D', 'E', 0xe0, 0x01, 0x01}, 6, "DEDEDEDEDEDE"},
    {"lone trailing byte ignored", {0x01, 'x', 'y', 0x7f}, 4, "xy"},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint8_t out[64];
    size_t got = godot_enet_fastlz_decompress(v[i].block, v[i].n, out, sizeof out);
    CHECK(got == strlen(v[i].plain) && memcmp(out, v[i].plain, got) == 0, "FastLZ vector %s", v[i].name);
  }
  struct { const char *name; uint8_t block[8]; size_t n; } bad[] = {
    {"level-2 tag", {0x20, 'A'}, 2},
    {"match before the start", {0x00, 'A', 0x20, 0x05}, 4},
    {"literal past the end", {0x1f, 1, 2, 3}, 4},
    {"long match without its offset", {0x00, 'A', 0xe0, 0x00}, 4},
    {"empty", {0}, 0},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t out[600];
    CHECK(godot_enet_fastlz_decompress(bad[i].block, bad[i].n, out, sizeof out) == 0, "FastLZ bad block %s", bad[i].name);
  }
  /* The output limit holds exactly. */
  uint8_t run[4] = {0x00, 'z', 0xe0, 0x00};
  uint8_t runLong[5] = {0x00, 'z', 0xe0, 0x05, 0x00};
  uint8_t out[15];
  CHECK(godot_enet_fastlz_decompress(runLong, 5, out, 15) == 15, "FastLZ exact limit");
  CHECK(godot_enet_fastlz_decompress(runLong, 5, out, 14) == 0, "FastLZ limit one short");
  (void)run;
}

static uint8_t *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = (uint8_t *)malloc(n > 0 ? (size_t)n : 1);
  *size = fread(data, 1, (size_t)n, f);
  fclose(f);
  return data;
}

static void write_file(const char *path, const uint8_t *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    failures++;
    return;
  }
  fwrite(data, 1, n, f);
  fclose(f);
}

static int batch(const char *list) {
  FILE *f = fopen(list, "r");
  if (f == NULL) return 2;
  ENetCompressor codecs[5];
  for (int m = 1; m <= 4; m++) CHECK(godot_enet_compressor_create(m, &codecs[m]) == 0, "create %d", m);
  char op[32], a[4096], b[4096];
  int mode;
  size_t limit;
  while (fscanf(f, "%31s %d %4095s %4095s", op, &mode, a, b) == 4) {
    if (mode < 1 || mode > 4) return 2;
    size_t n = 0;
    uint8_t *in = read_file(a, &n);
    if (in == NULL) return 2;
    if (strcmp(op, "decompress") == 0) {
      if (fscanf(f, "%zu", &limit) != 1) return 2;
      uint8_t *out = NULL;
      size_t got = decompress_exact(&codecs[mode], in, n, limit, &out);
      if (got > 0) write_file(b, out, got);
      free(out);
    } else if (strcmp(op, "compress") == 0) {
      uint8_t *out = (uint8_t *)malloc(n ? n : 1);
      ENetBuffer buffer = {.data = in, .dataLength = n};
      size_t got = codecs[mode].compress(codecs[mode].context, &buffer, 1, n, out, n);
      if (got > 0) write_file(b, out, got);
      free(out);
    } else if (strcmp(op, "block") == 0 && mode == GODOT_ENET_COMPRESS_FASTLZ) {
      uint8_t padded[16] = {0};
      const uint8_t *src = in;
      size_t len = n;
      if (n < 16) {
        memcpy(padded, in, n);
        src = padded;
        len = 16;
      }
      uint8_t *out = (uint8_t *)malloc(len + len / 16 + 16);
      size_t got = godot_enet_fastlz_compress(src, len, out, len + len / 16 + 16);
      CHECK(got > 0, "FastLZ block of %zu bytes", n);
      write_file(b, out, got);
      free(out);
    } else {
      return 2;
    }
    free(in);
  }
  fclose(f);
  for (int m = 1; m <= 4; m++) codecs[m].destroy(codecs[m].context);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "fuzz") == 0) {
    rng_state = strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ull + 1;
    size_t iterations = strtoull(argv[3], NULL, 10);
    fastlz_vectors();
    for (int mode = 1; mode <= 4; mode++) fuzz_mode(mode, iterations);
    ENetCompressor none;
    CHECK(godot_enet_compressor_create(0, &none) == -1 && godot_enet_compressor_create(5, &none) == -1, "unknown modes");
  } else if (argc >= 3 && strcmp(argv[1], "batch") == 0) {
    int status = batch(argv[2]);
    if (status != 0) return status;
  } else {
    fprintf(stderr, "usage: harness fuzz <seed> <iterations> | harness batch <list>\n");
    return 2;
  }
  if (failures > 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("all checks passed\n");
  return 0;
}

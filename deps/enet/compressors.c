/* ENet compressors for Godot's CompressionMode (see compressors.h). Our own code: no third-party
 * source is in this file; zlib is Node's own, and zstd and ENet's range coder come from their pinned packages.
 *
 * What Godot does, and so what we do (godot4-enet.md §3.5):
 *  - compress: concatenate ENet's buffers, compress the whole, and return 0 ("send it uncompressed")
 *    unless the result is smaller than the input and fits the output space. ENet sets header bit
 *    0x4000 on the datagrams where it used the result. No size prefix, no framing of our own.
 *  - decompress: decode into at most the output space; any failure returns 0 and ENet drops the
 *    datagram.
 *  - FASTLZ: one raw FastLZ level-1 block (Godot's fastlz_compress picks level 1 below 65536 bytes,
 *    which every datagram is). Inputs under 16 bytes are zero-padded to 16 first, as Godot does.
 *  - ZLIB: zlib-wrapped deflate (RFC 1950), windowBits 15, memLevel 8, Z_DEFAULT_STRATEGY, level -1,
 *    one deflate(Z_FINISH); inflate(Z_FINISH) must reach Z_STREAM_END.
 *  - ZSTD: one standard frame from ZSTD_compressCCtx at level 3 (content size in the header, no
 *    checksum); decoded with ZSTD_decompressDCtx.
 *  - RANGE_CODER: ENet's own coder (compress.c from enet@0.2.9), given the datagram as one buffer and
 *    behind an input-length guard (see range_compress_cb).
 *
 * The FastLZ codec here is our own, written from the published block format: a block is a sequence
 * of instructions, the first always a literal run whose top three bits (0) tag the block as level 1.
 *    literal run   [000LLLLL] then L+1 bytes (1..32)
 *    short match   [MMMRRRRR][RRRRRRRR]            M = 1..6: copy M+2 bytes (3..8)
 *    long match    [111RRRRR][LLLLLLLL][RRRRRRRR]  copy L+9 bytes (9..264)
 * where R (13 bits) is the distance back minus one: the copy starts R+1 bytes before the end of the
 * output so far, and may overlap what it writes. Decoding stops when fewer than two bytes are left
 * after an instruction (a lone trailing byte is ignored, as FastLZ 0.5.0 does). Our encoder finds
 * matches greedily through a hash of the next three bytes; its blocks need not equal Godot's byte for
 * byte, only be valid level-1 blocks, which any FastLZ decoder (Godot's included) accepts. */
#include "compressors.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

/* The range coder of enet@0.2.9 (its compress.c, compiled on its own from the pinned package; its
 * ENetBuffer has the same layout as the zpl header's). */
extern void *enet_range_coder_create(void);
extern void enet_range_coder_destroy(void *context);
extern size_t enet_range_coder_compress(void *context, const ENetBuffer *parts, size_t partCount,
                                        size_t inSize, enet_uint8 *out, size_t capacity);
extern size_t enet_range_coder_decompress(void *context, const enet_uint8 *in, size_t inSize,
                                          enet_uint8 *out, size_t capacity);

/* ENet never hands a compressor more than one datagram: at most ENET_PROTOCOL_MAXIMUM_MTU bytes in
 * either direction. A larger input size on receive is ENet computing `length - headerSize` for a
 * datagram shorter than its own header (2 or 3 bytes with the sentTime flag): it wraps around, and
 * the bytes it claims are not there. We refuse such calls instead of reading past the receive buffer. */
#define MAX_DATAGRAM ENET_PROTOCOL_MAXIMUM_MTU

#define FASTLZ_MIN_INPUT 16       /* Godot pads shorter inputs to this with zeros */
#define FASTLZ_MAX_LITERALS 32    /* per literal run */
#define FASTLZ_MIN_MATCH 3
#define FASTLZ_MAX_SHORT_MATCH 8
#define FASTLZ_MAX_MATCH 264      /* long match: 9 + 255 */
#define FASTLZ_MAX_DISTANCE 8192  /* 13-bit R = distance - 1 */
#define FASTLZ_MAX_INPUT 65535    /* level 1 only; positions fit the uint16 table */
#define FASTLZ_HASH_BITS 12

#define ZLIB_LEVEL Z_DEFAULT_COMPRESSION
#define ZLIB_WINDOW_BITS 15
#define ZLIB_MEM_LEVEL 8
#define ZSTD_LEVEL 3

/* Room for the compressed form of a whole datagram in every mode, before the "smaller?" check:
 * FastLZ at worst adds one byte per 32 literals; deflateBound(4096) and ZSTD_compressBound(4096) are
 * near 4.2 KB. Checked against the exact bounds at run time. */
#define SCRATCH_SIZE (MAX_DATAGRAM + MAX_DATAGRAM / 8 + 256)

typedef struct {
  int mode;
  uint8_t input[MAX_DATAGRAM];    /* ENet's buffers, concatenated (and zero-padded for FastLZ) */
  uint8_t output[SCRATCH_SIZE];   /* compressed, before the size check */
  uint16_t fastlzTable[1u << FASTLZ_HASH_BITS];
  z_stream deflater;
  z_stream inflater;
  int deflaterReady;
  int inflaterReady;
  ZSTD_CCtx *cctx;
  ZSTD_DCtx *dctx;
  void *rangeCoder;
} CodecContext;

/* ------------------------------------------------------------------------------------------------
 * FastLZ level 1 */

static uint32_t fastlz_hash(const uint8_t *p) {
  uint32_t v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
  return (v * 2654435761u) >> (32 - FASTLZ_HASH_BITS);
}

/* Appends literal runs for src[0, n). Returns 0, or -1 if they do not fit. */
static int fastlz_put_literals(uint8_t **op, const uint8_t *end, const uint8_t *src, size_t n) {
  while (n > 0) {
    size_t run = n < FASTLZ_MAX_LITERALS ? n : FASTLZ_MAX_LITERALS;
    if ((size_t)(end - *op) < run + 1) return -1;
    *(*op)++ = (uint8_t)(run - 1);
    memcpy(*op, src, run);
    *op += run;
    src += run;
    n -= run;
  }
  return 0;
}

/* Appends matches copying `length` (>= 3) bytes from `distance` (1..8192) back. A match longer than
 * one instruction holds is split; the pieces keep the distance, since each continues the last. */
static int fastlz_put_match(uint8_t **op, const uint8_t *end, size_t distance, size_t length) {
  const size_t r = distance - 1;
  while (length > 0) {
    size_t part = length;
    if (part > FASTLZ_MAX_MATCH) {
      part = FASTLZ_MAX_MATCH;
      if (length - part < FASTLZ_MIN_MATCH) part = length - FASTLZ_MIN_MATCH;  /* no piece under 3 */
    }
    if (part <= FASTLZ_MAX_SHORT_MATCH) {
      if (end - *op < 2) return -1;
      *(*op)++ = (uint8_t)(((part - 2) << 5) | (r >> 8));
      *(*op)++ = (uint8_t)(r & 0xff);
    } else {
      if (end - *op < 3) return -1;
      *(*op)++ = (uint8_t)((7u << 5) | (r >> 8));
      *(*op)++ = (uint8_t)(part - 9);
      *(*op)++ = (uint8_t)(r & 0xff);
    }
    length -= part;
  }
  return 0;
}

static size_t fastlz_compress_with(uint16_t *table, const uint8_t *in, size_t n, uint8_t *out, size_t capacity) {
  if (n == 0 || n > FASTLZ_MAX_INPUT) return 0;
  uint8_t *op = out;
  const uint8_t *end = out + capacity;
  size_t anchor = 0; /* first byte not yet emitted */
  size_t i = 0;
  memset(table, 0, sizeof(uint16_t) << FASTLZ_HASH_BITS); /* entries are position + 1; 0 = none */
  while (i + FASTLZ_MIN_MATCH <= n) {
    const uint32_t h = fastlz_hash(in + i);
    const size_t entry = table[h];
    table[h] = (uint16_t)(i + 1);
    if (entry != 0) {
      const size_t candidate = entry - 1;
      const size_t distance = i - candidate;
      if (distance <= FASTLZ_MAX_DISTANCE && in[candidate] == in[i] && in[candidate + 1] == in[i + 1] &&
          in[candidate + 2] == in[i + 2]) {
        size_t length = FASTLZ_MIN_MATCH;
        while (i + length < n && in[candidate + length] == in[i + length]) length++;
        /* The first instruction is always a literal run: nothing can match at position 0. */
        if (fastlz_put_literals(&op, end, in + anchor, i - anchor) != 0) return 0;
        if (fastlz_put_match(&op, end, distance, length) != 0) return 0;
        for (size_t k = i + 1; k < i + length && k + FASTLZ_MIN_MATCH <= n; k++) {
          table[fastlz_hash(in + k)] = (uint16_t)(k + 1);
        }
        i += length;
        anchor = i;
        continue;
      }
    }
    i++;
  }
  if (fastlz_put_literals(&op, end, in + anchor, n - anchor) != 0) return 0;
  return (size_t)(op - out);
}

size_t godot_enet_fastlz_compress(const uint8_t *input, size_t length, uint8_t *output, size_t capacity) {
  uint16_t table[1u << FASTLZ_HASH_BITS];
  return fastlz_compress_with(table, input, length, output, capacity);
}

size_t godot_enet_fastlz_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t capacity) {
  if (n == 0 || (in[0] >> 5) != 0) return 0; /* empty, or not a level-1 block */
  size_t ip = 1;
  size_t op = 0;
  unsigned ctrl = in[0] & 31u; /* the first instruction is a literal run whatever its tag bits */
  for (;;) {
    if (ctrl < 32) {
      const size_t run = (size_t)ctrl + 1;
      if (run > n - ip || run > capacity - op) return 0;
      memcpy(out + op, in + ip, run);
      ip += run;
      op += run;
    } else {
      size_t length = (ctrl >> 5) + 2;          /* 3..8, or 9 for a long match */
      size_t back = (size_t)(ctrl & 31u) << 8;  /* R's high five bits */
      if ((ctrl >> 5) == 7) {
        if (n - ip < 2) return 0;               /* its length byte and R's low byte */
        length += in[ip++];
      }
      if (n - ip < 1) return 0;
      back += in[ip++];
      if (back >= op) return 0;                 /* starts before the output does */
      if (length > capacity - op) return 0;
      const uint8_t *ref = out + op - back - 1;
      uint8_t *dst = out + op;
      for (size_t k = 0; k < length; k++) dst[k] = ref[k]; /* forward: an overlap repeats bytes */
      op += length;
    }
    if (n - ip < 2) break;
    ctrl = in[ip++];
  }
  return op;
}

/* ------------------------------------------------------------------------------------------------
 * Callbacks */

/* Concatenates ENet's buffers into the context; returns the byte count, or 0 if there are more than a
 * datagram holds. */
static size_t gather(CodecContext *c, const ENetBuffer *buffers, size_t count, size_t limit) {
  if (limit == 0 || limit > sizeof c->input) return 0;
  size_t total = 0;
  for (size_t i = 0; i < count && total < limit; i++) {
    size_t n = buffers[i].dataLength;
    if (n > limit - total) n = limit - total;
    if (n > 0) memcpy(c->input + total, buffers[i].data, n);
    total += n;
  }
  return total;
}

/* Godot's rule: use the result only if it is smaller than the input and fits the output space. */
static size_t deliver(const uint8_t *compressed, size_t size, size_t original, uint8_t *out, size_t capacity) {
  if (size == 0 || size >= original || size > capacity) return 0;
  memcpy(out, compressed, size);
  return size;
}

static size_t ENET_CALLBACK fastlz_compress_cb(void *context, const ENetBuffer *parts, size_t partCount,
                                               size_t inSize, enet_uint8 *out, size_t capacity) {
  CodecContext *c = (CodecContext *)context;
  size_t n = gather(c, parts, partCount, inSize);
  if (n == 0) return 0;
  size_t padded = n;
  if (padded < FASTLZ_MIN_INPUT) {
    memset(c->input + n, 0, FASTLZ_MIN_INPUT - n);
    padded = FASTLZ_MIN_INPUT;
  }
  size_t size = fastlz_compress_with(c->fastlzTable, c->input, padded, c->output, sizeof c->output);
  return deliver(c->output, size, n, out, capacity);
}

static size_t ENET_CALLBACK fastlz_decompress_cb(void *context, const enet_uint8 *in, size_t inSize,
                                                 enet_uint8 *out, size_t capacity) {
  (void)context;
  if (inSize > MAX_DATAGRAM) return 0;
  return godot_enet_fastlz_decompress(in, inSize, out, capacity);
}

static size_t ENET_CALLBACK zlib_compress_cb(void *context, const ENetBuffer *parts, size_t partCount,
                                             size_t inSize, enet_uint8 *out, size_t capacity) {
  CodecContext *c = (CodecContext *)context;
  size_t n = gather(c, parts, partCount, inSize);
  if (n == 0) return 0;
  /* deflateReset keeps level, window, memLevel and strategy: the same stream as a fresh deflateInit2. */
  if (deflateReset(&c->deflater) != Z_OK) return 0;
  uLong bound = deflateBound(&c->deflater, (uLong)n);
  if (bound > sizeof c->output) return 0;
  c->deflater.next_in = c->input;
  c->deflater.avail_in = (uInt)n;
  c->deflater.next_out = c->output;
  c->deflater.avail_out = (uInt)bound;
  if (deflate(&c->deflater, Z_FINISH) != Z_STREAM_END) return 0;
  return deliver(c->output, (size_t)(bound - c->deflater.avail_out), n, out, capacity);
}

static size_t ENET_CALLBACK zlib_decompress_cb(void *context, const enet_uint8 *in, size_t inSize,
                                               enet_uint8 *out, size_t capacity) {
  CodecContext *c = (CodecContext *)context;
  if (inSize == 0 || inSize > MAX_DATAGRAM || capacity > MAX_DATAGRAM) return 0;
  if (inflateReset(&c->inflater) != Z_OK) return 0;
  c->inflater.next_in = (Bytef *)in;
  c->inflater.avail_in = (uInt)inSize;
  c->inflater.next_out = out;
  c->inflater.avail_out = (uInt)capacity;
  /* Z_STREAM_END only: a stream cut short, corrupt, or longer than capacity fails. */
  if (inflate(&c->inflater, Z_FINISH) != Z_STREAM_END) return 0;
  return capacity - c->inflater.avail_out;
}

static size_t ENET_CALLBACK zstd_compress_cb(void *context, const ENetBuffer *parts, size_t partCount,
                                             size_t inSize, enet_uint8 *out, size_t capacity) {
  CodecContext *c = (CodecContext *)context;
  size_t n = gather(c, parts, partCount, inSize);
  if (n == 0) return 0;
  size_t bound = ZSTD_compressBound(n);
  if (bound > sizeof c->output) return 0;
  size_t size = ZSTD_compressCCtx(c->cctx, c->output, bound, c->input, n, ZSTD_LEVEL);
  if (ZSTD_isError(size)) return 0;
  return deliver(c->output, size, n, out, capacity);
}

static size_t ENET_CALLBACK zstd_decompress_cb(void *context, const enet_uint8 *in, size_t inSize,
                                               enet_uint8 *out, size_t capacity) {
  CodecContext *c = (CodecContext *)context;
  if (inSize == 0 || inSize > MAX_DATAGRAM) return 0;
  size_t size = ZSTD_decompressDCtx(c->dctx, out, capacity, in, inSize);
  return ZSTD_isError(size) ? 0 : size;
}

/* ENet's range coder reads one byte past an empty buffer in the list it is given (it fetches the next
 * buffer and reads from it without checking its length), and ENet hands compressors an empty buffer
 * for an empty packet. So it gets the datagram as one contiguous buffer; its output is the same. */
static size_t ENET_CALLBACK range_compress_cb(void *context, const ENetBuffer *parts, size_t partCount,
                                              size_t inSize, enet_uint8 *out, size_t capacity) {
  CodecContext *c = (CodecContext *)context;
  size_t n = gather(c, parts, partCount, inSize);
  if (n == 0) return 0;
  ENetBuffer whole;
  whole.data = c->input;
  whole.dataLength = n;
  return enet_range_coder_compress(c->rangeCoder, &whole, 1, n, out, capacity);
}

static size_t ENET_CALLBACK range_decompress_cb(void *context, const enet_uint8 *in, size_t inSize,
                                                enet_uint8 *out, size_t capacity) {
  CodecContext *c = (CodecContext *)context;
  if (inSize == 0 || inSize > MAX_DATAGRAM) return 0;
  return enet_range_coder_decompress(c->rangeCoder, in, inSize, out, capacity);
}

static void ENET_CALLBACK codec_destroy(void *context) {
  CodecContext *c = (CodecContext *)context;
  if (c == NULL) return;
  if (c->deflaterReady) deflateEnd(&c->deflater);
  if (c->inflaterReady) inflateEnd(&c->inflater);
  ZSTD_freeCCtx(c->cctx); /* both accept NULL */
  ZSTD_freeDCtx(c->dctx);
  if (c->rangeCoder != NULL) enet_range_coder_destroy(c->rangeCoder);
  free(c);
}

int godot_enet_compressor_create(int mode, ENetCompressor *compressor) {
  if (mode < GODOT_ENET_COMPRESS_RANGE_CODER || mode > GODOT_ENET_COMPRESS_ZSTD) return -1;
  CodecContext *c = (CodecContext *)calloc(1, sizeof *c);
  if (c == NULL) return -1;
  c->mode = mode;
  switch (mode) {
    case GODOT_ENET_COMPRESS_RANGE_CODER:
      c->rangeCoder = enet_range_coder_create();
      if (c->rangeCoder == NULL) {
        codec_destroy(c);
        return -1;
      }
      compressor->compress = range_compress_cb;
      compressor->decompress = range_decompress_cb;
      break;
    case GODOT_ENET_COMPRESS_FASTLZ:
      compressor->compress = fastlz_compress_cb;
      compressor->decompress = fastlz_decompress_cb;
      break;
    case GODOT_ENET_COMPRESS_ZLIB:
      /* calloc left zalloc/zfree/opaque NULL: zlib's default allocator. */
      if (deflateInit2(&c->deflater, ZLIB_LEVEL, Z_DEFLATED, ZLIB_WINDOW_BITS, ZLIB_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK) {
        codec_destroy(c);
        return -1;
      }
      c->deflaterReady = 1;
      if (inflateInit2(&c->inflater, ZLIB_WINDOW_BITS) != Z_OK) {
        codec_destroy(c);
        return -1;
      }
      c->inflaterReady = 1;
      compressor->compress = zlib_compress_cb;
      compressor->decompress = zlib_decompress_cb;
      break;
    default: /* GODOT_ENET_COMPRESS_ZSTD */
      c->cctx = ZSTD_createCCtx();
      c->dctx = ZSTD_createDCtx();
      if (c->cctx == NULL || c->dctx == NULL) {
        codec_destroy(c);
        return -1;
      }
      compressor->compress = zstd_compress_cb;
      compressor->decompress = zstd_decompress_cb;
      break;
  }
  compressor->context = c;
  compressor->destroy = codec_destroy;
  return 0;
}

/* ENet compressors for Godot's ENetConnection.compress(mode), byte-compatible with Godot
 * (spec godot4-enet.md §3.5): raw FastLZ level-1 blocks, zlib-wrapped deflate, one zstd frame, and
 * ENet's own range coder. They run inside ENet's compressor callbacks, in C, with one context per
 * host holding the scratch buffers and codec state.
 *
 * Every decoder treats its input as hostile: it reads only the input bytes it is given, writes only
 * within the output space, and returns 0 (ENet then drops the datagram) for anything malformed. */
#ifndef GODOT_ENET_COMPRESSORS_H
#define GODOT_ENET_COMPRESSORS_H

#include <stddef.h>
#include <stdint.h>

#include "enet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Godot's ENetConnection.CompressionMode. */
enum {
  GODOT_ENET_COMPRESS_NONE = 0,
  GODOT_ENET_COMPRESS_RANGE_CODER = 1,
  GODOT_ENET_COMPRESS_FASTLZ = 2,
  GODOT_ENET_COMPRESS_ZLIB = 3,
  GODOT_ENET_COMPRESS_ZSTD = 4
};

/* Fills *compressor with the callbacks and a new context for `mode` (RANGE_CODER, FASTLZ, ZLIB or
 * ZSTD). Returns 0, or -1 for any other mode or when memory runs out (then nothing was allocated and
 * *compressor is untouched). Hand the result to enet_host_compress(), which owns the context from
 * then on and frees it through compressor->destroy. */
int godot_enet_compressor_create(int mode, ENetCompressor *compressor);

/* The FastLZ level-1 codec on contiguous buffers (what the FASTLZ callbacks use; exposed for tests).
 * compress: `length` must be 1..65535; returns the block size, or 0 if it would not fit `capacity`.
 * decompress: returns the decoded size, or 0 if the block is malformed or decodes past `capacity`. */
size_t godot_enet_fastlz_compress(const uint8_t *input, size_t length, uint8_t *output, size_t capacity);
size_t godot_enet_fastlz_decompress(const uint8_t *input, size_t length, uint8_t *output, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif

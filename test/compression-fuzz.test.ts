/**
 * The compressor callbacks (deps/enet/compressors.c) outside the addon, under AddressSanitizer and
 * UndefinedBehaviorSanitizer with exact-size buffers: round trips of ENet-like inputs split over
 * several ENet buffers in every mode, then truncated, bit-flipped, overwritten, extended and spliced
 * compressed data, pure noise, and the wrapped-around input lengths ENet passes for datagrams shorter
 * than their header. Any read or write outside a buffer aborts the harness and fails the test.
 */
import { describe, expect, test } from '@jest/globals';
import { runHarness } from './helpers/compression-harness';

describe('compressor callbacks under ASan/UBSan (test/native/compression-harness.c)', () => {
  test('builds (zstd and the range coder from the verified, pinned sources)', async () => {
    await runHarness(['batch', '/dev/null']);
  }, 300000);

  test.each([1, 2, 3])('fuzz seed %i: round trips exact, every mutant rejected or bounded, no sanitizer report', async (seed) => {
    const out = await runHarness(['fuzz', String(seed), '2000']);
    expect(out).toContain('all checks passed');
    // Every mode compressed a good share of its inputs and saw its mutants.
    for (const mode of [1, 2, 3, 4]) {
      const line = new RegExp(`mode ${mode}: (\\d+) inputs, (\\d+) compressed \\((\\d+) -> (\\d+) bytes\\), (\\d+) mutants`).exec(out);
      expect(line).not.toBeNull();
      const [, inputs, compressed, , , mutants] = (line as RegExpExecArray).map(Number);
      expect(inputs).toBe(2000);
      expect(compressed).toBeGreaterThan(1000);
      expect(mutants).toBe(compressed * 24);
    }
  }, 300000);
});

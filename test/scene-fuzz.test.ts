/**
 * SceneMultiplayer under hostile input, in-process: the bugs the `scene` fuzz target
 * (tools/fuzz/scene-target.ts, `npm run fuzz`) found, as regression tests on hand-made packets fed
 * through an in-memory MultiplayerPeer (test/helpers/memory-peer.ts); and the target itself, on its
 * seeds, its reproducers and a deterministic sample of mutants.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { GodotError, SceneMultiplayer, TypedArray, TypedDictionary, VariantType, VariantWriter, float, writeCompressedVariant } from '../src';
import { captureErrors } from './helpers/loopback';
import { MemoryPeer } from './helpers/memory-peer';
import { hex, le32 } from './helpers/scene';
import { Mutator, check, mutate, seedInputs } from '../tools/fuzz/scene-target';
import { Prng } from '../tools/impair-proxy';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { byteMutator } = require('../tools/fuzz/mutations.js') as { byteMutator(rnd: (n: number) => number, pick: () => Buffer): Mutator };

const REPRO = join(__dirname, '..', 'tools', 'fuzz', 'repro');

const errors = captureErrors();

const A = 12345;

/** A server SceneMultiplayer on a MemoryPeer, with `clients` connected. */
function server(...clients: number[]): { mp: SceneMultiplayer; peer: MemoryPeer; feed(from: number, ...packets: string[]): void } {
  const peer = new MemoryPeer(1);
  const mp = new SceneMultiplayer();
  mp.multiplayerPeer = peer;
  for (const id of clients) peer.link(id);
  mp.poll();
  return {
    mp,
    peer,
    feed(from, ...packets) {
      for (const p of packets) peer.deliver(from, hex(p));
      mp.poll();
    },
  };
}

/** A client SceneMultiplayer (id 999) on a MemoryPeer, connected to the server. */
function client(): { mp: SceneMultiplayer; feed(...packets: string[]): void } {
  const peer = new MemoryPeer(999);
  const mp = new SceneMultiplayer();
  mp.multiplayerPeer = peer;
  peer.link(1);
  mp.poll();
  return {
    mp,
    feed(...packets) {
      for (const p of packets) peer.deliver(1, hex(p));
      mp.poll();
    },
  };
}

const total = (mp: SceneMultiplayer): number => Object.values(mp.getCounters()).reduce((s, n) => s + n, 0);

describe('regression: hostile packets the fuzzer found dropped without being counted', () => {
  it('counts a CONFIRM_PATH for a cache id that was never assigned (no error printed: Godot ignores it too)', () => {
    const s = server(A);
    s.feed(A, '02 01 01000000', '02 00 ffffffff');
    expect(s.mp.getCounters().unrequestedConfirm).toBe(2);
    expect(errors.take()).toEqual([]);
  });
});

describe('regression: a client takes ADD_PEER / DEL_PEER only for peers that can exist', () => {
  it('counts DEL_PEER of a peer it never heard of, or of the server, and keeps the server', () => {
    const c = client();
    c.feed('0702' + le32(4242), '0702' + le32(1), '0702' + le32(0));
    expect(c.mp.getCounters().badSysCommand).toBe(3);
    expect(c.mp.getPeers()).toEqual([1]);
    c.feed('0701' + le32(A), '0702' + le32(A));
    expect(c.mp.getPeers()).toEqual([1]);
    expect(total(c.mp)).toBe(3);
  });

  it('refuses ADD_PEER of its own id', () => {
    const c = client();
    c.feed('0701' + le32(999));
    expect(c.mp.getCounters().badSysCommand).toBe(1);
    expect(c.mp.getPeers()).toEqual([1]);
  });
});

describe('regression: a hostile server cannot grow a client without bound', () => {
  it('believes ADD_PEER for at most 4094 other clients (ENet servers have 4095 peers)', () => {
    const c = client();
    const adds: string[] = [];
    for (let id = 2; id < 2 + 5000; id++) adds.push('0701' + le32(id));
    c.feed(...adds);
    expect(c.mp.getPeers().length).toBe(4095);
    expect(c.mp.getCounters().badSysCommand).toBe(5000 - 4094);
  });
});

describe('regression: what a peer offers the path cache costs what the node costs, not what the packet did', () => {
  /** Heap in use after a full collection. */
  function heapAfterGc(): number {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    return process.memoryUsage().heapUsed;
  }

  it('stores the node path, not the 64 KB spelling of it a peer sent ("Game////…")', () => {
    const s = server(A);
    s.mp.registerNode('Game', {});
    const md5 = Buffer.from('d41d8cd98f00b204e9800998ecf8427e\0').toString('hex');
    const longPath = Buffer.from('Game' + '/'.repeat(64 * 1024) + '\0').toString('hex');
    const before = heapAfterGc();
    for (let id = 1; id <= 400; id++) s.peer.deliver(A, hex('01' + md5 + le32(id) + longPath));
    s.mp.poll();
    const grown = heapAfterGc() - before;
    expect(s.peer.queued).toBe(0);
    expect(s.mp.getCounters().unknownPath).toBe(0);
    // 400 spellings of 64 KB would be 25 MB.
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    // The ids still name the node.
    const calls: number[] = [];
    s.mp.getNode('Game')?.rpcConfig('ping', '@rpc("any_peer")');
    s.mp.getNode('Game')?.on('ping', () => calls.push(s.mp.getRemoteSenderId()));
    s.feed(A, 'c0 07 0080', 'c0 90 0080');
    expect(calls).toEqual([A, A]);
  });
});

/** A call of `method` (script method id `methodId` of node "Game") from A, with `args` compressed, by inline path. */
function rpcPacket(methodId: number, ...args: unknown[]): string {
  const w = new VariantWriter();
  w.u8(0x20);
  w.u32(0);
  w.u8(methodId);
  w.u8(args.length);
  for (const a of args) expect(writeCompressedVariant(w, a)).toBe(GodotError.OK);
  const base = w.finish();
  base.writeUInt32LE((0x80000000 | base.length) >>> 0, 1);
  return Buffer.concat([base, Buffer.from('Game\0')]).toString('hex');
}

describe('regression: RPC handlers only get arguments of their declared types', () => {
  function game(args: string[]): { s: ReturnType<typeof server>; got: unknown[][] } {
    const s = server(A);
    const got: unknown[][] = [];
    s.mp.registerNode('Game', { f: { rpcMode: 'any_peer', args } }).on('f', (...a: unknown[]) => got.push(a));
    return { s, got };
  }

  it('an int parameter refuses a NaN, infinite or out-of-int64 float (it truncated them to non-ints), and truncates others', () => {
    const { s, got } = game(['int']);
    s.feed(A, rpcPacket(0, NaN), rpcPacket(0, Infinity), rpcPacket(0, -1e300), rpcPacket(0, 2 ** 63));
    expect(got).toEqual([]);
    expect(s.mp.getCounters().badArguments).toBe(4);
    s.feed(A, rpcPacket(0, float(2.7)), rpcPacket(0, -0.5));
    expect(got).toEqual([[2], [0]]);
    expect(Object.is(got[1][0], 0)).toBe(true);
  });
  it('an Array[int] parameter takes an Array[int] of ints only, as GDScript (no untyped [], no other element type)', () => {
    const { s, got } = game(['Array[int]']);
    const ints = (items: unknown[]) => new TypedArray({ type: VariantType.INT }, items);
    s.feed(A, rpcPacket(0, [1, 2]), rpcPacket(0, ['a']), rpcPacket(0, new TypedArray({ type: VariantType.STRING }, ['x'])), rpcPacket(0, ints([1, 'x'])), rpcPacket(0, ints([1.5])));
    expect(got).toEqual([]);
    expect(s.mp.getCounters().badArguments).toBe(5);
    s.feed(A, rpcPacket(0, ints([1, 2])), rpcPacket(0, ints([])));
    expect(got).toEqual([[[1, 2]], [[]]]);
    expect(got[0][0]).toBeInstanceOf(TypedArray);
  });

  it('a Dictionary[String, float] parameter takes that typed dictionary only, ints converted to floats', () => {
    const { s, got } = game(['Dictionary[String, float]']);
    const typed = (entries: Array<[unknown, unknown]>) => new TypedDictionary({ type: VariantType.STRING }, { type: VariantType.FLOAT }, entries);
    s.feed(A, rpcPacket(0, new Map([['a', 1.5]])), rpcPacket(0, typed([[1, 'x']])), rpcPacket(0, typed([['a', 'x']])));
    expect(got).toEqual([]);
    expect(s.mp.getCounters().badArguments).toBe(3);
    s.feed(A, rpcPacket(0, typed([['a', 1.5], ['b', 2]])));
    expect(got.length).toBe(1);
    expect(got[0][0]).toBeInstanceOf(TypedDictionary);
    expect([...(got[0][0] as Map<unknown, unknown>)]).toEqual([['a', 1.5], ['b', 2]]);
  });
});

describe('regression: a peer decides the length of its paths, not of our error messages', () => {
  it('reports a 64 KB unknown or badly checksummed path in under 400 characters', () => {
    const s = server(A);
    s.mp.registerNode('Game', {});
    const long = (p: string) => Buffer.from(p + '\0').toString('hex');
    const md5 = (m: string) => Buffer.from(m + '\0').toString('hex');
    s.feed(A,
      '01' + md5('d41d8cd98f00b204e9800998ecf8427e') + le32(1) + long('Nope/' + 'x'.repeat(65536)),
      '01' + md5('0'.repeat(32)) + le32(2) + long('Game' + '/'.repeat(65536)),
      '20' + le32(0x80000000 | 7) + '00' + '00' + long('y'.repeat(65536)));
    const messages = errors.take();
    expect(messages.length).toBe(3);
    for (const m of messages) expect(m.length).toBeLessThan(400);
    expect(s.mp.getCounters().unknownPath).toBe(2);
  });
});

describe('the scene fuzz target (tools/fuzz/scene-target.ts, run long by npm run fuzz)', () => {
  it('replays its seeds (our own traffic, Appendix A, hostile packets) and every reproducer without a failed check', () => {
    const inputs = [...Object.values(seedInputs()), ...readdirSync(REPRO).filter((f) => f.startsWith('scene-')).map((f) => readFileSync(join(REPRO, f)))];
    expect(inputs.length).toBeGreaterThan(40);
    const failures: string[] = [];
    for (const input of inputs) check(input, (m) => failures.push(m));
    expect(failures).toEqual([]);
  });

  it('checks 500 mutants of them without a failure (a deterministic sample)', () => {
    const seeds = Object.values(seedInputs());
    const rng = new Prng(99);
    const m = byteMutator((n) => rng.int(n), () => seeds[rng.int(seeds.length)]);
    const failures: string[] = [];
    for (let i = 0; i < 500; i++) check(mutate(seeds[rng.int(seeds.length)], m), (f) => failures.push(f));
    expect(failures).toEqual([]);
  });
});

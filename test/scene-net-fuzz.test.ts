/**
 * Network fuzzing of SceneMultiplayer, short version (the long runs are `npm run reliability -- --only
 * scene`): tools/scene-net-fuzz.ts sends a SceneMultiplayer server (in a child process, so that a crash
 * shows as one) hostile SceneMultiplayer packets over real ENet from admitted, authenticating and silent
 * sessions, while a legitimate SceneMultiplayer client calls an RPC and sends bytes that the server
 * echoes. The server must not crash, its handlers must only see declared argument types, its memory
 * must stay bounded, and the legitimate traffic must arrive complete and in order.
 */
import { describe, expect, test } from '@jest/globals';
import { setErrorReporter } from '../src/core/errors';
import { Generator, KINDS, Kind, capturedTraffic, formatSceneFuzz, runSceneFuzz } from '../tools/scene-net-fuzz';

setErrorReporter(() => undefined);

const MiB = 1024 * 1024;
const clean = { lost: 0, reordered: 0, duplicated: 0, corrupt: 0 };

describe('the SceneMultiplayer packet generator', () => {
  test('is deterministic per seed, makes every kind, and starts from real traffic', () => {
    const captured = capturedTraffic();
    expect(captured.length).toBeGreaterThan(200);
    const a = new Generator(5, captured);
    const b = new Generator(5, captured);
    const aim = { self: 12345, legit: 777, others: [2, 3] };
    const counts: Record<string, number> = {};
    for (let i = 0; i < 3000; i++) {
      const kind = a.pickKind();
      expect(b.pickKind()).toBe(kind);
      const x = a.generate(kind, aim);
      expect(b.generate(kind, aim).equals(x)).toBe(true);
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    for (const kind of Object.keys(KINDS) as Kind[]) expect(counts[kind]).toBeGreaterThan(0);
  });
});

describe('fuzzing a SceneMultiplayer server over ENet while a legitimate client exchanges RPCs and bytes', () => {
  test('6 s of hostile packets: no crash, handlers typed, bounded memory, nothing of the legitimate traffic lost', async () => {
    const r = await runSceneFuzz({ packets: 500_000, seconds: 6, seed: 7, sessions: 6 });
    console.log(formatSceneFuzz(r));
    expect(r.crashed).toBe(false);
    expect(r.server).not.toBeNull();
    expect(r.server?.failures).toEqual([]);
    expect(r.server?.unexpected).toEqual([]);
    expect(r.legit.failures).toEqual([]);
    expect(r.legit.problems).toEqual([]);
    expect(r.legit.rpc).toMatchObject(clean);
    expect(r.legit.bytes).toMatchObject(clean);
    expect(r.legit.disconnected).toBe(false);
    expect(r.legit.rpc.ok).toBeGreaterThan(100);
    expect(r.legit.bytes.ok).toBeGreaterThan(100);
    expect(r.server?.legitRpc).toMatchObject(clean);
    expect(r.server?.legitBytes).toMatchObject(clean);
    // Fuzz from every kind of session, most of it dropped and counted by the server.
    expect(r.sent).toBeGreaterThan(20_000);
    expect(r.bySession.admitted).toBeGreaterThan(r.sent / 4);
    expect(r.bySession.authenticating + r.bySession.silent).toBeGreaterThan(r.sent / 10);
    expect(r.server?.dropped).toBeGreaterThan(r.sent / 3);
    expect(r.sessionsOpened).toBeGreaterThan(6);
    // Bounded: peers, caches and allocator slack, not the traffic.
    expect(r.rssPeak - r.rssBefore).toBeLessThan(64 * MiB);
  }, 60_000);
});

/**
 * Impaired links, short versions (the long runs are in tools/reliability.ts, `npm run reliability`):
 * the userspace impairment proxy itself (tools/impair-proxy.ts), reliable streams that must arrive
 * byte-exact and in order at 1 %, 10 % and 30 % loss, unreliable traffic that degrades without
 * stalling, and a cut link reported as a disconnect within the configured timeout.
 * Figures are printed with console.log; nothing here asserts speed.
 */
import { describe, expect, test } from '@jest/globals';
import * as dgram from 'dgram';
import { setErrorReporter } from '../src/core/errors';
import { ImpairProxy } from '../tools/impair-proxy';
import { measureCut, runTransfer, runUnreliable } from '../tools/impairment';
import { lossyLargeUnreliable } from '../tools/known-bugs';

setErrorReporter(() => undefined);

const KiB = 1024;
const MiB = 1024 * 1024;

function udp(): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('the impairment proxy (tools/impair-proxy.ts)', () => {
  test('forwards both ways; loses, duplicates, delays, reorders, rate-limits and cuts as told', async () => {
    const server = await udp();
    server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address)); // echo
    const client = await udp();
    const got: number[] = [];
    const gotAt: number[] = [];
    client.on('message', (msg) => {
      got.push(msg.readUInt32BE(0));
      gotAt.push(Date.now());
    });
    const proxy = await ImpairProxy.start({ target: { address: '127.0.0.1', port: server.address().port }, seed: 42 });
    const burst = (n: number, size = 16): number => {
      const t = Date.now();
      for (let i = 0; i < n; i++) {
        const b = Buffer.alloc(size);
        b.writeUInt32BE(i, 0);
        client.send(b, proxy.port, '127.0.0.1');
      }
      return t;
    };
    const reset = (): void => {
      got.length = 0;
      gotAt.length = 0;
    };
    try {
      // Clean: everything, in order.
      burst(200);
      await until(() => got.length === 200, 5000, 'the clean echoes');
      expect(got).toEqual([...Array(200).keys()]);
      expect(proxy.stats.sessions).toBe(1);

      // 50 % loss upstream: about half come back (binomial, generous bounds).
      reset();
      proxy.configure('up', { loss: 0.5 });
      burst(400);
      await new Promise((r) => setTimeout(r, 300));
      expect(got.length).toBeGreaterThan(140);
      expect(got.length).toBeLessThan(260);
      expect(proxy.stats.up.lost).toBe(400 - got.length);

      // Duplication downstream: every echo twice.
      reset();
      proxy.configure('up', { loss: 0 });
      proxy.configure('down', { duplicate: 1 });
      burst(50);
      await until(() => got.length === 100, 5000, 'the duplicated echoes');
      expect(new Set(got).size).toBe(50);

      // 40 ms each way: a round trip takes at least 80 ms.
      reset();
      proxy.configure('down', { duplicate: 0 });
      proxy.configure('both', { delayMs: 40 });
      const sentAt = burst(10);
      await until(() => got.length === 10, 5000, 'the delayed echoes');
      expect(Math.min(...gotAt) - sentAt).toBeGreaterThanOrEqual(78);

      // Jitter and the reorder knob: datagrams overtake each other.
      reset();
      proxy.configure('both', { delayMs: 5, jitterMs: 20, reorder: 0.2, reorderMs: 15 });
      burst(300);
      await until(() => got.length === 300, 5000, 'the jittered echoes');
      const inversions = got.filter((x, i) => i > 0 && x < got[i - 1]).length;
      expect(inversions).toBeGreaterThan(10);
      expect(proxy.stats.up.reordered + proxy.stats.down.reordered).toBeGreaterThan(10);

      // 100 KB/s with a 10 KB queue: a 100 KB burst mostly overflows; what fits trickles out.
      reset();
      proxy.configure('both', { delayMs: 0, jitterMs: 0, reorder: 0 });
      proxy.configure('up', { rateBytesPerSec: 100_000, queueBytes: 10_000 });
      const rateStart = burst(100, 1000);
      await new Promise((r) => setTimeout(r, 600));
      expect(proxy.stats.up.rateDropped).toBeGreaterThan(50);
      expect(got.length).toBe(100 - proxy.stats.up.rateDropped);
      expect(Math.max(...gotAt) - rateStart).toBeGreaterThan(50); // the queued ones waited for tokens

      // Cut: nothing passes, either way; restored: everything does again.
      reset();
      proxy.configure('up', { rateBytesPerSec: 0 });
      proxy.cut();
      burst(50);
      await new Promise((r) => setTimeout(r, 200));
      expect(got.length).toBe(0);
      expect(proxy.stats.up.cutDropped).toBeGreaterThanOrEqual(50);
      proxy.restore();
      burst(50);
      await until(() => got.length === 50, 5000, 'the echoes after the link was restored');
      console.log(`proxy stats after the checks: ${JSON.stringify(proxy.stats)}`);
    } finally {
      await proxy.close();
      client.close();
      server.close();
    }
  });
});

describe('reliable streams over lossy links arrive complete, byte-exact and in order', () => {
  const cases: Array<{ name: string; loss: number; oneWay?: boolean; bytes: number; timeouts?: [number, number, number] }> = [
    { name: '1 % loss each way', loss: 0.01, bytes: 2 * MiB },
    { name: '10 % loss each way', loss: 0.1, bytes: 1 * MiB },
    // Each-way 30 % needs longer timeouts and minutes per MB (see the README); the short version takes
    // the loss on the data path only.
    { name: '30 % loss on the data path', loss: 0.3, oneWay: true, bytes: 256 * KiB, timeouts: [32, 30000, 60000] },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.bytes / KiB} KiB with 5±3 ms delay, 1 % duplicates, 1 % reordering`, async () => {
      const impair = { loss: c.loss, delayMs: 5, jitterMs: 3, duplicate: 0.01, reorder: 0.01 };
      const r = await runTransfer({
        both: c.oneWay ? { delayMs: 5, jitterMs: 3, duplicate: 0.01, reorder: 0.01 } : impair,
        up: c.oneWay ? impair : undefined,
        bytes: c.bytes,
        seconds: 40,
        timeouts: c.timeouts,
        seed: Math.round(c.loss * 1000),
      });
      console.log(`${c.name}: ${(r.bytes / KiB).toFixed(0)} KiB in ${r.packets} packets, ${r.seconds.toFixed(1)} s; ` +
        `lost ${r.counts.lost}, reordered ${r.counts.reordered}, duplicated ${r.counts.duplicated}, corrupt ${r.counts.corrupt}; ` +
        `the proxy dropped ${r.proxy.up.lost}+${r.proxy.down.lost}, duplicated ${r.proxy.up.duplicated + r.proxy.down.duplicated}, ` +
        `reordered ${r.proxy.up.reordered + r.proxy.down.reordered} datagrams; ${r.retransmits} retransmits; longest stall ${r.longestStallMs} ms`);
      expect(r.problems).toEqual([]);
      expect(r.counts).toMatchObject({ lost: 0, reordered: 0, duplicated: 0, corrupt: 0 });
      expect(r.disconnected).toBeNull();
      expect(r.bytes).toBe(c.bytes);
      expect(r.complete).toBe(true);
      // The link really was that bad.
      expect(r.proxy.up.lost).toBeGreaterThan(0);
      expect(r.retransmits).toBeGreaterThan(0);
    }, 60_000);
  }

  /**
   * Bug (a wrong disconnect): at 30 % loss each way, ENet declares a live peer dead. Everything sent
   * before the first RTT sample keeps the 500 ms default as its retransmit timeout, which then doubles
   * (patch 0003) towards a 16 s limit; the stream stalls behind such a command for 10-30 s, and the
   * peer is dropped at timeoutMinimum/timeoutMaximum while half its datagrams still get through.
   * Measured: disconnected after 0.25 MiB (10 s); with 30 % loss on the data path only, after 6 MiB.
   * Fixed by deps/enet/patches/0014-rebase-retransmit-timeout.patch (re-base a command's
   * limit on the current RTT estimate and never wait longer than it): then 4 MiB arrive in 88 s, no
   * disconnect, longest stall 4 s, and dead peers are still found as fast (test/mitigations.test.ts).
   */
  test('30 % loss each way, Godot\'s default timeouts: 512 KiB arrive and the peer is not dropped', async () => {
    const r = await runTransfer({ both: { loss: 0.3, delayMs: 5, jitterMs: 3 }, bytes: 512 * KiB, seconds: 45, seed: 30 });
    console.log(`30 % loss each way, default timeouts: ${(r.bytes / KiB).toFixed(0)} KiB in ${r.seconds.toFixed(1)} s; ` +
      `${r.disconnected === null ? 'no disconnect' : `${r.disconnected.side} disconnected after ${r.disconnected.atMs} ms`}; longest stall ${r.longestStallMs} ms`);
    expect(r.counts).toMatchObject({ lost: 0, reordered: 0, duplicated: 0, corrupt: 0 });
    expect(r.disconnected).toBeNull();
    expect(r.complete).toBe(true);
    expect(r.longestStallMs).toBeLessThan(5000);
  }, 60_000);

  test('over IPv6 loopback too (10 % loss each way, 512 KiB)', async () => {
    const r = await runTransfer({ both: { loss: 0.1, delayMs: 2, jitterMs: 2 }, bytes: 512 * KiB, seconds: 40, ipv6: true, seed: 6 });
    expect(r.counts).toMatchObject({ lost: 0, reordered: 0, duplicated: 0, corrupt: 0 });
    expect(r.complete).toBe(true);
    expect(r.disconnected).toBeNull();
  }, 60_000);
});

describe('unreliable traffic degrades without stalling', () => {
  for (const loss of [0.1, 0.3]) {
    test(`${loss * 100} % loss each way: 100 small packets/s for 3 s, next to a reliable stream`, async () => {
      const r = await runUnreliable({ both: { loss, delayMs: 5, jitterMs: 3 }, rate: 100, size: 200, seconds: 3, reliableBytesPerSec: 50_000, seed: 7 });
      console.log(`unreliable at ${loss * 100} % loss: ${r.delivered}/${r.sent} delivered (${(r.ratio * 100).toFixed(0)} %), ` +
        `longest gap ${r.longestGapMs} ms, ${(r.bucketsWithDelivery * 100).toFixed(0)} % of 250 ms windows had deliveries; ` +
        `reliable alongside: ${(r.reliableBytes / KiB).toFixed(0)} KiB, clean ${r.reliableClean}`);
      expect(r.disconnected).toBe(false);
      // Degrades: roughly (1 - loss) arrives; ENet's throttle may drop a few more at the sender.
      expect(r.ratio).toBeGreaterThan((1 - loss) * 0.6);
      expect(r.ratio).toBeLessThanOrEqual(1);
      // Without stalling: deliveries in (nearly) every quarter second, no gap of a second.
      expect(r.longestGapMs).toBeLessThan(1000);
      expect(r.bucketsWithDelivery).toBeGreaterThan(0.9);
      expect(r.reliableClean).toBe(true);
    }, 30_000);
  }
});

describe('a cut link is reported as a disconnect within the configured timeout', () => {
  for (const traffic of ['idle', 'stream'] as const) {
    test(`${traffic}: setTimeout(32, 1000, 2000) on both sides`, async () => {
      const r = await measureCut({ traffic, seconds: 10, timeouts: [32, 1000, 2000], both: { delayMs: 5 } });
      console.log(`cut link (${traffic}, timeouts 32/1000/2000): server reported the disconnect after ${r.serverMs} ms, client after ${r.clientMs} ms`);
      for (const ms of [r.serverMs, r.clientMs]) {
        expect(ms).not.toBeNull();
        // Not before timeout_min; by timeout_max plus the last retransmit interval.
        expect(ms as number).toBeGreaterThanOrEqual(950);
        expect(ms as number).toBeLessThan(3500);
      }
      expect(r.serverTimeouts).toBe(1);
      expect(r.clientTimeouts).toBe(1);
    }, 30_000);
  }
});

describe('regression: lost unreliable fragments must not make a peer deaf (ENet totalWaitingData)', () => {
  /**
   * ENet counts every queued incoming packet in peer->totalWaitingData and refuses all further commands
   * of the peer once it reaches host->maximumWaitingData (32 MiB). Unreliable fragmented packets that
   * never complete (a fragment was lost) are freed by enet_peer_dispatch_incoming_unreliable_commands
   * via enet_peer_remove_incoming_commands, which did not subtract them. So every lost fragment leaked
   * its whole packet's size from that budget; after 32 MiB of such packets the peer's reliable data was
   * no longer acknowledged and the sender timed out, on a link that merely loses 10 % (here: reliable
   * 513/800, dropped after 12 s). Fixed by patch 0009; upstream libenet 1.3.17 has the same bug (see
   * test/net-fuzz.test.ts for the crafted-datagram version).
   */
  test('64 KiB unreliable packets at 10 % loss for 6 s (37.5 MiB): the reliable stream next to them never stalls', async () => {
    const r = await lossyLargeUnreliable(6, 0.1);
    console.log(`64 KiB unreliable at 10 % loss: ${r.unreliableSent} sent (${((r.unreliableSent * 64) / 1024).toFixed(1)} MiB); ` +
      `reliable ${r.reliableGot}/${r.reliableSent} received, longest reliable gap ${r.longestReliableGapMs} ms; ${r.disconnected || 'no disconnect'}`);
    expect(r.disconnected).toBe('');
    expect(r.reliableGot).toBe(r.reliableSent);
    expect(r.longestReliableGapMs).toBeLessThan(4000);
  }, 40_000);
});

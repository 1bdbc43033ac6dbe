/**
 * Lifecycle of the built package in child processes (test/fixtures/lifecycle/*.js, which `require`
 * the repository root like a user would): garbage-collected hosts, many hosts over time, worker
 * threads, process exit with live hosts, and re-entrant calls from event handling. A crash here
 * (a signal, a non-zero exit, anything on stderr) fails the test without taking jest down.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { SpawnSyncReturns, spawnSync } from 'child_process';
import * as path from 'path';
import { REPO_ROOT, ensureBuilt } from './helpers/loopback';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'lifecycle');

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runFixture(script: string, args: string[] = [], nodeFlags: string[] = [], timeoutMs = 60_000): Run {
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [...nodeFlags, path.join(FIXTURES, script), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (result.error) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Expects a clean exit (code 0, no signal, nothing on stderr) and returns the JSON of the last stdout line. */
function cleanJson(run: Run): Record<string, unknown> {
  expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  const lines = run.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

beforeAll(() => ensureBuilt(), 180_000);

describe('a host dropped without destroy()', () => {
  test('is collected under --expose-gc; peers stay safe to call; the socket is released; exit 0', () => {
    const report = cleanJson(runFixture('gc-dropped-host.js', [], ['--expose-gc']));
    expect(report).toEqual({
      // Peers kept alive keep their connection alive: still connected and usable after gc.
      keptPeersActive: [true, true],
      keptPeerState: 5,
      keptPeerSend: 0,
      keptPeerAddress: '127.0.0.1',
      // A host nothing refers to is collected, and its native host with it (the port is free again).
      serverCollected: true,
      portReleased: true,
      // Its remote was never told (as with destroy()) and times out.
      clientTimedOut: true,
      clientPeerActive: false,
      manyCollected: 40,
    });
  }, 90_000);
});

describe('many hosts over time', () => {
  test('creating and ending thousands of hosts does not grow the RSS without bound', () => {
    const rounds = 3000;
    const report = cleanJson(runFixture('many-hosts.js', [String(rounds)], ['--expose-gc'], 120_000)) as {
      rounds: number;
      warmRss: number;
      samples: number[];
      exchanged: number;
    };
    expect(report.rounds).toBe(rounds);
    expect(report.exchanged).toBe(rounds / 10);
    expect(report.samples).toHaveLength(5);
    // Leaking even one ENet peer array with its channels per round would add well over 40 MB.
    const MB = 1024 * 1024;
    const growth = Math.max(...report.samples) - report.warmRss;
    expect(Math.round(growth / MB)).toBeLessThan(40);
  }, 150_000);
});

describe('worker threads', () => {
  test('two workers and the main thread use the addon at once; a worker may end with live hosts', () => {
    const report = cleanJson(runFixture('workers.js', ['concurrent', '20'], [], 90_000));
    expect(report).toEqual({
      main: 20,
      workers: [20, 20],
      workerExitCodes: [0, 0],
      // A worker that ends with connected hosts never destroyed.
      liveExit: [0, 1],
      // The main thread's addon is unaffected by the workers' teardown.
      after: 2,
    });
  }, 120_000);

  test('workers terminated in the middle of their service loops do not take the process down', () => {
    const report = cleanJson(runFixture('workers.js', ['terminate', '6'], [], 90_000));
    // worker.terminate() gives exit code 1; every worker had started its loop.
    expect(report).toEqual({ terminated: Array.from({ length: 6 }, () => [1, true]), after: 2 });
  }, 120_000);
});

describe('process exit with live hosts', () => {
  test.each(['natural', 'exit', 'exit-hook', 'beforeExit'])('ending by %s exits cleanly with code 0', (mode) => {
    const run = runFixture('exit-live.js', [mode]);
    expect({ status: run.status, signal: run.signal, stderr: run.stderr, stdout: run.stdout.trim() })
      .toEqual({ status: 0, signal: null, stderr: '', stdout: `done ${mode}` });
  }, 90_000);
});

describe('re-entrancy', () => {
  test('service/destroy/reset/connect from inside event handling do not crash and behave', () => {
    const report = cleanJson(runFixture('reentrancy.js', [], ['--expose-gc']));
    expect(report).toEqual({
      destroyInHandler: {
        // Every later call on the destroyed host is EVENT_ERROR (service, service(timeout), checkEvents).
        after: [-1, -1, -1],
        // A received packet (zero-copy over ENet's memory) outlives the host.
        kept: true,
        peersInactive: true,
        getPacketAfter: 3, // ERR_UNCONFIGURED
      },
      nestedService: [true, true],
      // Pending events of a peer reset while handling its first event are dropped.
      resetInHandler: { rest: [], active: false, stale: true },
      disconnectNowInConnect: { serverEvents: [], clientDisconnect: [5, 0], active: false, toServerActive: false },
      // After destroy + create inside a handler, none of the old host's pending events come out.
      recreateInHandler: { created: 0, next: [0, 0, 0], freshConnected: true },
      reconnectInDisconnect: true,
      remoteDestroyedInHandler: { packet: true, serverActive: true },
    });
  }, 90_000);
});

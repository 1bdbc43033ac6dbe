/**
 * Godot's enums and constants as the package exports them (spec §1.0, §1.4, §1.5), checked against
 * the spec's names and numbers and against ENet's own C values exported by the addon, and the
 * package entry points (CommonJS and ES module) as users load them.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'child_process';
import * as path from 'path';
import {
  CompressionMode,
  ENetConnection,
  ENetPacketPeer,
  Error as ExportedError,
  EventType,
  GodotError,
  HostStatistic,
  PeerState,
  PeerStatistic,
} from '../src';
import { REPO_ROOT, ensureBuilt } from './helpers/loopback';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const addon = require('../build/Release/godot_enet.node') as { constants: Record<string, number> };

/** Spec §1.0, verbatim: name = value. ERR_MAX (49) is an internal count and not part of the enum. */
const GODOT_ERRORS: [string, number][] = [
  ['OK', 0], ['FAILED', 1], ['ERR_UNAVAILABLE', 2], ['ERR_UNCONFIGURED', 3], ['ERR_UNAUTHORIZED', 4],
  ['ERR_PARAMETER_RANGE_ERROR', 5], ['ERR_OUT_OF_MEMORY', 6], ['ERR_FILE_NOT_FOUND', 7], ['ERR_FILE_BAD_DRIVE', 8],
  ['ERR_FILE_BAD_PATH', 9], ['ERR_FILE_NO_PERMISSION', 10], ['ERR_FILE_ALREADY_IN_USE', 11], ['ERR_FILE_CANT_OPEN', 12],
  ['ERR_FILE_CANT_WRITE', 13], ['ERR_FILE_CANT_READ', 14], ['ERR_FILE_UNRECOGNIZED', 15], ['ERR_FILE_CORRUPT', 16],
  ['ERR_FILE_MISSING_DEPENDENCIES', 17], ['ERR_FILE_EOF', 18], ['ERR_CANT_OPEN', 19], ['ERR_CANT_CREATE', 20],
  ['ERR_QUERY_FAILED', 21], ['ERR_ALREADY_IN_USE', 22], ['ERR_LOCKED', 23], ['ERR_TIMEOUT', 24], ['ERR_CANT_CONNECT', 25],
  ['ERR_CANT_RESOLVE', 26], ['ERR_CONNECTION_ERROR', 27], ['ERR_CANT_ACQUIRE_RESOURCE', 28], ['ERR_CANT_FORK', 29],
  ['ERR_INVALID_DATA', 30], ['ERR_INVALID_PARAMETER', 31], ['ERR_ALREADY_EXISTS', 32], ['ERR_DOES_NOT_EXIST', 33],
  ['ERR_DATABASE_CANT_READ', 34], ['ERR_DATABASE_CANT_WRITE', 35], ['ERR_COMPILATION_FAILED', 36],
  ['ERR_METHOD_NOT_FOUND', 37], ['ERR_LINK_FAILED', 38], ['ERR_SCRIPT_FAILED', 39], ['ERR_CYCLIC_LINK', 40],
  ['ERR_INVALID_DECLARATION', 41], ['ERR_DUPLICATE_SYMBOL', 42], ['ERR_PARSE_ERROR', 43], ['ERR_BUSY', 44], ['ERR_SKIP', 45],
  ['ERR_HELP', 46], ['ERR_BUG', 47], ['ERR_PRINTER_ON_FIRE', 48],
];

const COMPRESSION_MODES: [string, number][] = [
  ['COMPRESS_NONE', 0], ['COMPRESS_RANGE_CODER', 1], ['COMPRESS_FASTLZ', 2], ['COMPRESS_ZLIB', 3], ['COMPRESS_ZSTD', 4],
];
const EVENT_TYPES: [string, number][] = [
  ['EVENT_ERROR', -1], ['EVENT_NONE', 0], ['EVENT_CONNECT', 1], ['EVENT_DISCONNECT', 2], ['EVENT_RECEIVE', 3],
];
const HOST_STATISTICS: [string, number][] = [
  ['HOST_TOTAL_SENT_DATA', 0], ['HOST_TOTAL_SENT_PACKETS', 1], ['HOST_TOTAL_RECEIVED_DATA', 2],
  ['HOST_TOTAL_RECEIVED_PACKETS', 3],
];
const PEER_STATES: [string, number][] = [
  ['STATE_DISCONNECTED', 0], ['STATE_CONNECTING', 1], ['STATE_ACKNOWLEDGING_CONNECT', 2], ['STATE_CONNECTION_PENDING', 3],
  ['STATE_CONNECTION_SUCCEEDED', 4], ['STATE_CONNECTED', 5], ['STATE_DISCONNECT_LATER', 6], ['STATE_DISCONNECTING', 7],
  ['STATE_ACKNOWLEDGING_DISCONNECT', 8], ['STATE_ZOMBIE', 9],
];
const PEER_STATISTICS: [string, number][] = [
  ['PEER_PACKET_LOSS', 0], ['PEER_PACKET_LOSS_VARIANCE', 1], ['PEER_PACKET_LOSS_EPOCH', 2], ['PEER_ROUND_TRIP_TIME', 3],
  ['PEER_ROUND_TRIP_TIME_VARIANCE', 4], ['PEER_LAST_ROUND_TRIP_TIME', 5], ['PEER_LAST_ROUND_TRIP_TIME_VARIANCE', 6],
  ['PEER_PACKET_THROTTLE', 7], ['PEER_PACKET_THROTTLE_LIMIT', 8], ['PEER_PACKET_THROTTLE_COUNTER', 9],
  ['PEER_PACKET_THROTTLE_EPOCH', 10], ['PEER_PACKET_THROTTLE_ACCELERATION', 11], ['PEER_PACKET_THROTTLE_DECELERATION', 12],
  ['PEER_PACKET_THROTTLE_INTERVAL', 13],
];
const PEER_CONSTANTS: [string, number][] = [
  ['FLAG_RELIABLE', 1], ['FLAG_UNSEQUENCED', 2], ['FLAG_UNRELIABLE_FRAGMENT', 8],
  ['PACKET_THROTTLE_SCALE', 32], ['PACKET_LOSS_SCALE', 65536],
];

/** The numeric members of a TS enum object as [name, value] (without the reverse mapping). */
function members(enumObject: object): [string, number][] {
  return Object.entries(enumObject).filter((entry): entry is [string, number] => typeof entry[1] === 'number');
}

function expectEnum(enumObject: object, expected: [string, number][]): void {
  expect(members(enumObject)).toEqual(expected);
  // TS numeric enums map back from value to name too.
  for (const [name, value] of expected) expect((enumObject as Record<number, string>)[value]).toBe(name);
}

describe('Godot Error enum (spec §1.0)', () => {
  test('has exactly the 49 names and numbers of error_list.h, in order', () => {
    expect(GODOT_ERRORS).toHaveLength(49);
    expectEnum(GodotError, GODOT_ERRORS);
  });

  test.each(GODOT_ERRORS)('GodotError.%s = %i', (name, value) => {
    expect((GodotError as unknown as Record<string, number>)[name]).toBe(value);
  });

  test('is exported as Error too (the same object), and ERR_MAX is not a member', () => {
    expect(ExportedError).toBe(GodotError);
    expect((GodotError as unknown as Record<string, unknown>).ERR_MAX).toBeUndefined();
    expect((GodotError as unknown as Record<number, unknown>)[49]).toBeUndefined();
  });
});

describe('ENetConnection enums (spec §1.4)', () => {
  test('CompressionMode', () => expectEnum(CompressionMode, COMPRESSION_MODES));
  test('EventType', () => expectEnum(EventType, EVENT_TYPES));
  test('HostStatistic', () => expectEnum(HostStatistic, HOST_STATISTICS));

  test('every value is also a static member of ENetConnection, and the enums hang off the class', () => {
    const statics = ENetConnection as unknown as Record<string, unknown>;
    for (const [name, value] of [...COMPRESSION_MODES, ...EVENT_TYPES, ...HOST_STATISTICS]) {
      expect([name, statics[name]]).toEqual([name, value]);
    }
    expect(ENetConnection.CompressionMode).toBe(CompressionMode);
    expect(ENetConnection.EventType).toBe(EventType);
    expect(ENetConnection.HostStatistic).toBe(HostStatistic);
    expect(ENetConnection.EVENT_CONNECT).toBe(1);
    expect(ENetConnection.EVENT_ERROR).toBe(-1);
  });
});

describe('ENetPacketPeer enums and constants (spec §1.5)', () => {
  test('PeerState', () => expectEnum(PeerState, PEER_STATES));
  test('PeerStatistic', () => expectEnum(PeerStatistic, PEER_STATISTICS));

  test('FLAG_* and PACKET_*_SCALE are static members of ENetPacketPeer', () => {
    const statics = ENetPacketPeer as unknown as Record<string, unknown>;
    for (const [name, value] of PEER_CONSTANTS) expect([name, statics[name]]).toEqual([name, value]);
    expect(ENetPacketPeer.FLAG_RELIABLE | ENetPacketPeer.FLAG_UNSEQUENCED | ENetPacketPeer.FLAG_UNRELIABLE_FRAGMENT).toBe(11);
    expect(ENetPacketPeer.PeerState).toBe(PeerState);
    expect(ENetPacketPeer.PeerStatistic).toBe(PeerStatistic);
  });

  test('PeerState and PeerStatistic values are static members of ENetPacketPeer too, as in Godot', () => {
    // GDScript writes ENetPacketPeer.STATE_CONNECTED and ENetPacketPeer.PEER_ROUND_TRIP_TIME, just as
    // ENetConnection.EVENT_CONNECT (which this package does expose).
    const statics = ENetPacketPeer as unknown as Record<string, unknown>;
    for (const [name, value] of [...PEER_STATES, ...PEER_STATISTICS]) expect([name, statics[name]]).toEqual([name, value]);
  });

  test('ENetPacketPeer cannot be constructed directly', () => {
    const Ctor = ENetPacketPeer as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Ctor(Symbol('fake'), {}, 0, 0)).toThrow(TypeError);
  });
});

describe("TS values equal ENet's C values exported by the addon", () => {
  const c = addon.constants;

  test('the addon exports its constants table', () => {
    expect(typeof c).toBe('object');
    expect(Object.keys(c).length).toBeGreaterThan(20);
  });

  test.each(PEER_CONSTANTS)('%s', (name) => {
    expect(c[name]).toBe((ENetPacketPeer as unknown as Record<string, number>)[name]);
  });

  test.each(PEER_STATES)('PeerState.%s', (name, value) => {
    expect(c[name]).toBe(value);
    expect((PeerState as unknown as Record<string, number>)[name]).toBe(c[name]);
  });

  test.each(['EVENT_NONE', 'EVENT_CONNECT', 'EVENT_DISCONNECT', 'EVENT_RECEIVE'])('EventType.%s', (name) => {
    expect((EventType as unknown as Record<string, number>)[name]).toBe(c[name]);
  });

  test('ENet limits the API relies on', () => {
    expect(c.PROTOCOL_MAXIMUM_CHANNEL_COUNT).toBe(255);
    expect(c.PROTOCOL_MAXIMUM_PEER_ID).toBe(4095);
    expect(c.HOST_DEFAULT_MTU).toBe(1392);
    expect(c.PEER_PING_INTERVAL).toBe(500);
    expect([c.PEER_TIMEOUT_LIMIT, c.PEER_TIMEOUT_MINIMUM, c.PEER_TIMEOUT_MAXIMUM]).toEqual([32, 5000, 30000]);
  });
});

describe('package entry points (dist/)', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  test("require('..') (CommonJS main) exposes the API", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('..') as Record<string, unknown>;
    for (const name of ['ENetConnection', 'ENetPacketPeer', 'PacketPeer', 'Error', 'GodotError', 'CompressionMode',
      'EventType', 'HostStatistic', 'PeerState', 'PeerStatistic', 'setErrorReporter']) {
      expect([name, pkg[name] !== undefined]).toEqual([name, true]);
    }
    expect(pkg.Error).toBe(pkg.GodotError);
    const errors = pkg.Error as Record<string, number>;
    for (const [name, value] of GODOT_ERRORS) expect([name, errors[name]]).toEqual([name, value]);
    const Connection = pkg.ENetConnection as typeof ENetConnection;
    const connection = new Connection();
    expect(connection.createHostBound('127.0.0.1', 0)).toBe(0);
    expect(connection.getLocalPort()).toBeGreaterThan(0);
    connection.destroy();
  });

  test("an ES module doing `import { ENetConnection, Error } from 'godot-enet'` gets the API", () => {
    const script = path.join(REPO_ROOT, 'test', 'fixtures', 'lifecycle', 'esm-import.mjs');
    const run = spawnSync(process.execPath, [script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
    expect(report).toEqual({
      resolved: path.join(REPO_ROOT, 'dist', 'index.mjs'),
      errorOk: 0,
      errorInvalidParameter: 31,
      errorPrinterOnFire: 48,
      eventConnect: 1,
      flagReliable: 1,
      createResult: 0,
      portPositive: true,
      defaultHasConnection: true,
      exchanged: 'hello from esm',
    });
  });
});

/**
 * Replication over real UDP loopback (spec scene-multiplayer.md §9): our SceneMultiplayer server
 * spawning and synchronizing the nodes of test/fixtures/replication-godot (read with readManifest) on
 * raw clients that see the exact bytes, and on our own SceneMultiplayer clients; clients' input
 * synchronizers flowing back; hostile replication packets. Real Godot 4.6 peers: replication-godot.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as path from 'path';
import {
  GodotError,
  MultiplayerSpawner,
  MultiplayerSynchronizer,
  NetworkNode,
  SceneMultiplayer,
  TransferMode,
  Vector2,
  encodeVariant,
  readManifest,
  setErrorReporter,
} from '../src';
import { RawClient, SceneEnd, closePeersAfterEach, hex, le32, pumpFor, pumpUntil, sceneClient, sceneServer } from './helpers/scene';

closePeersAfterEach();

const MANIFEST = readManifest(path.join(__dirname, 'fixtures', 'replication-godot'));
/** The checksum of a node without RPCs: MD5 of "". */
const NO_RPCS = 'd41d8cd98f00b204e9800998ecf8427e';
const { TRANSFER_MODE_RELIABLE: RELIABLE, TRANSFER_MODE_UNRELIABLE: UNRELIABLE } = TransferMode;
const PLAYER = 'res://player.tscn';

const errors: string[] = [];
beforeAll(() => setErrorReporter((message) => errors.push(message)));
afterAll(() => setErrorReporter(() => undefined));

/** A server of the fixture game; tickRate 0 makes every poll() a network frame. */
function server(tickRate = 0): SceneEnd & { port: number } {
  return sceneServer((mp) => mp.loadManifest(MANIFEST), { tickRate });
}

/** Our client of the fixture game, doing what player.gd's _enter_tree does: the player's peer owns its input. */
function client(port: number): SceneEnd {
  return sceneClient(port, (mp) => {
    mp.loadManifest(MANIFEST);
    mp.on('node_added', (node) => {
      if (node.sceneFilePath === PLAYER) node.getNode('InputSync')?.setMultiplayerAuthority(Number(node.name));
    });
  });
}

async function rawJoin(s: SceneEnd): Promise<RawClient> {
  const raw = new RawClient((s as SceneEnd & { port: number }).port);
  await pumpUntil([s, raw], () => s.mp.getPeers().includes(raw.id), 'the raw client to be admitted');
  return raw;
}

/** The server spawns a player for peer `id`, as main.gd would: position, rotation, health, and the input's authority. */
function spawnPlayer(s: SceneEnd, id: number, at = new Vector2(10, 20)): NetworkNode {
  return s.mp.instantiate(PLAYER, `Game/Players/${id}`, (p) => {
    p.set('position', at);
    p.set('rotation', 0.5);
    p.set('health', 100);
    p.getNode('InputSync')?.setMultiplayerAuthority(id);
  });
}

/** Our cache ids as the raw client learnt them from SIMPLIFY_PATH: path → id. */
function cacheIds(raw: RawClient): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of raw.got) if (p.data[0] === 1) out.set(p.data.subarray(38, p.data.length - 1).toString(), p.data.readUInt32LE(34));
  return out;
}

const ofCommand = (raw: RawClient, first: number) => raw.got.filter((p) => p.data[0] === first);
const cstr = (s: string) => Buffer.from(s + '\0').toString('hex');
const simplifyPath = (id: number, nodePath: string, checksum = NO_RPCS) => '01' + cstr(checksum) + le32(id) + cstr(nodePath);
const f32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return b.toString('hex');
};
const vector2 = (x: number, y: number) => '05000000' + f32(x) + f32(y);
const floatValue = (v: number) => '03000000' + f32(v);
/** The SYNC entries of a packet: net id → state hex. */
function syncEntries(data: Buffer): Map<number, string> {
  const out = new Map<number, string>();
  for (let ofs = 3; ofs + 8 < data.length; ) {
    const size = data.readUInt32LE(ofs + 4);
    out.set(data.readUInt32LE(ofs), data.subarray(ofs + 8, ofs + 8 + size).toString('hex'));
    ofs += 8 + size;
  }
  return out;
}

describe('our server spawns and synchronizes', () => {
  test("a spawn reaches a client as Godot's bytes: SIMPLIFY_PATH of the spawner, then SPAWN with the spawn state in config order", async () => {
    const s = server();
    const raw = await rawJoin(s);
    spawnPlayer(s, raw.id);
    await pumpUntil([s, raw], () => ofCommand(raw, 4).length === 1, 'the SPAWN');
    const spawnerId = cacheIds(raw).get('Game/PlayerSpawner') ?? -1;
    const simplify = raw.got.findIndex((p) => p.data.toString('hex') === simplifyPath(spawnerId, 'Game/PlayerSpawner'));
    const spawn = raw.got.findIndex((p) => p.data[0] === 4);
    expect(simplify).toBeGreaterThanOrEqual(0);
    expect(simplify).toBeLessThan(spawn);
    const name = String(raw.id);
    // Net ids: the player 1, its ServerSync 2; InputSync belongs to the client, so it is not in the SPAWN.
    // State: ServerSync's spawn properties in config order: position, rotation, health (Tag:text is spawn = false).
    expect(raw.got[spawn]).toMatchObject({ channel: 0, mode: RELIABLE });
    expect(raw.got[spawn].data.toString('hex')).toBe(
      '04' + '00' + le32(spawnerId) + le32(1) + le32(1) + le32(name.length + 1) + le32(2) + cstr(name) + vector2(10, 20) + floatValue(0.5) + '0264',
    );
  });

  test('SYNC: unreliable, one sequence number per frame, the ALWAYS properties every replication_interval; DELTA: reliable, only what changed', async () => {
    const s = server();
    const raw = await rawJoin(s);
    const player = spawnPlayer(s, raw.id);
    await pumpUntil([s, raw], () => ofCommand(raw, 6).length >= 2 && ofCommand(raw, 0x16).length >= 1, 'SYNC and DELTA');
    const started = Date.now();
    for (const p of ofCommand(raw, 6)) {
      expect(p).toMatchObject({ channel: 0, mode: UNRELIABLE });
      expect(syncEntries(p.data)).toEqual(new Map([[2, vector2(10, 20) + floatValue(0.5)]]));
    }
    // The first delta carries every watched property that has a value: health (bit 0); Tag:text was never set.
    expect(ofCommand(raw, 0x16)[0]).toMatchObject({ channel: 0, mode: RELIABLE });
    expect(ofCommand(raw, 0x16)[0].data.toString('hex')).toBe('16' + le32(2) + '0100000000000000' + le32(2) + '0264');

    player.set('position', new Vector2(-1, 2.5));
    player.set('health', 90);
    const syncs = ofCommand(raw, 6).length;
    await pumpUntil([s, raw], () => ofCommand(raw, 0x16).length >= 2 && ofCommand(raw, 6).length > syncs + 2, 'the new values');
    expect(ofCommand(raw, 0x16)[1].data.toString('hex')).toBe('16' + le32(2) + '0100000000000000' + le32(2) + '025a');
    expect(syncEntries(ofCommand(raw, 6).at(-1)!.data).get(2)).toBe(vector2(-1, 2.5) + floatValue(0.5));
    player.getNode('Tag')?.set('text', 'hi');
    player.set('health', 90); // unchanged: no delta for it
    await pumpUntil([s, raw], () => ofCommand(raw, 0x16).length >= 3, 'the tag');
    expect(ofCommand(raw, 0x16)[2].data.toString('hex')).toBe('16' + le32(2) + '0200000000000000' + le32(12) + '04000000' + '02000000' + '68690000');

    // Every poll is a frame here (tickRate 0), but ServerSync's replication_interval is 0.1 s: its entries
    // come at most every 100 ms while the sequence counts frames.
    await pumpFor([s, raw], 300);
    const packets = ofCommand(raw, 6);
    const elapsed = Date.now() - started;
    expect(packets.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 3);
    const seqs = packets.map((p) => p.data.readUInt16LE(1));
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
    expect(seqs.at(-1)! - seqs[0]).toBeGreaterThan(packets.length); // frames without a due entry still count
    expect(ofCommand(raw, 0x16).length).toBe(3);
  });

  test('a client that joins later gets SPAWN with the current state; DESPAWN when the node is removed, and its syncs stop', async () => {
    const s = server();
    const player = spawnPlayer(s, 4242);
    player.set('position', new Vector2(7, 8));
    player.set('health', 55);
    const raw = await rawJoin(s);
    await pumpUntil([s, raw], () => ofCommand(raw, 4).length === 1, 'the SPAWN');
    const spawn = ofCommand(raw, 4)[0].data.toString('hex');
    expect(spawn.endsWith(cstr('4242') + vector2(7, 8) + floatValue(0.5) + '0237')).toBe(true);
    expect(spawn.slice(2, 4)).toBe('00');
    // 4242's input belongs to peer 4242 here: only ServerSync (net id 2) is in the SPAWN.
    expect(spawn.slice(20, 28)).toBe(le32(1));

    player.remove();
    await pumpUntil([s, raw], () => ofCommand(raw, 5).length === 1, 'the DESPAWN');
    expect(ofCommand(raw, 5)[0]).toMatchObject({ channel: 0, mode: RELIABLE });
    expect(ofCommand(raw, 5)[0].data.toString('hex')).toBe('05' + le32(1));
    expect(s.mp.getNode('Game/Players/4242')).toBeUndefined();
    expect(s.mp.getNode('Game/Players/4242/ServerSync')).toBeUndefined();
    const syncs = ofCommand(raw, 6).length;
    await pumpFor([s, raw], 250);
    expect(ofCommand(raw, 6).length).toBe(syncs);
  });

  test('visibility: a filter despawns the node on one peer only, RPCs skip that peer, and it respawns with the same net id', async () => {
    const s = server();
    const a = await rawJoin(s);
    const b = await rawJoin(s);
    const player = spawnPlayer(s, a.id);
    await pumpUntil([s, a, b], () => ofCommand(a, 4).length === 1 && ofCommand(b, 4).length === 1, 'both spawns');
    const sync = player.getNode('ServerSync') as MultiplayerSynchronizer;
    expect(sync).toBeInstanceOf(MultiplayerSynchronizer);
    const changes: number[] = [];
    sync.on('visibility_changed', (peer: number) => changes.push(peer));
    // As in Godot, filters are also asked about peer 0 ("everyone") and a yes there shows the node to all.
    const hide = (peer: number) => peer === a.id;
    sync.addVisibilityFilter(hide); // re-run every frame (visibility_update_mode IDLE)
    await pumpUntil([s, a, b], () => ofCommand(b, 5).length === 1, "B's DESPAWN");
    expect(ofCommand(b, 5)[0].data.toString('hex')).toBe('05' + le32(1));
    expect(ofCommand(a, 5)).toHaveLength(0);
    expect(changes).toContain(0);
    expect(sync.isVisibleTo(a.id)).toBe(true);
    expect(sync.isVisibleTo(b.id)).toBe(false);

    // hit is an authority RPC of player.gd: only A, which sees the player, gets it.
    const bSyncs = ofCommand(b, 6).length;
    expect(player.rpc('hit', 5)).toBe(GodotError.OK);
    await pumpUntil([s, a, b], () => a.got.some((p) => (p.data[0] & 7) === 0), 'the RPC at A');
    await pumpFor([s, a, b], 150);
    expect(b.got.some((p) => (p.data[0] & 7) === 0)).toBe(false);
    expect(ofCommand(b, 6).length).toBe(bSyncs); // and no SYNC either
    expect(player.rpcId(b.id, 'hit', 1)).toBe(GodotError.ERR_INVALID_PARAMETER);

    sync.removeVisibilityFilter(hide);
    sync.updateVisibility();
    await pumpUntil([s, a, b], () => ofCommand(b, 4).length === 2, "B's new SPAWN");
    expect(ofCommand(b, 4)[1].data.subarray(6, 10).toString('hex')).toBe(le32(1));

    // Public visibility off, one peer chosen.
    sync.setVisibilityFor(a.id, true);
    sync.publicVisibility = false;
    await pumpUntil([s, a, b], () => ofCommand(b, 5).length === 2, "B's second DESPAWN");
    expect(ofCommand(a, 5)).toHaveLength(0);
    expect(sync.getVisibilityFor(a.id)).toBe(true);
    expect(sync.getVisibilityFor(b.id)).toBe(false);
  });

  test('a custom spawn: scene id 0xFF, the data as one Variant, the spawn limit, and only the authority spawns', async () => {
    const s = server();
    const raw = await rawJoin(s);
    const props = s.mp.getNode('Game/PropSpawner') as MultiplayerSpawner;
    expect(props).toBeInstanceOf(MultiplayerSpawner);
    expect(props.spawn({ kind: 'box', name: 'Crate1' })).toBeNull(); // no spawnFunction yet
    props.spawnFunction = (data) => ({ scene: 'res://crate.tscn', name: (data as { name: string }).name });
    const data = { kind: 'box', name: 'Crate1' };
    const crate = props.spawn(data, (c) => c.set('position', new Vector2(3, 4)));
    expect(crate?.path).toBe('Game/Props/Crate1');
    await pumpUntil([s, raw], () => ofCommand(raw, 4).length === 1, 'the SPAWN');
    const spawnerId = cacheIds(raw).get('Game/PropSpawner') ?? -1;
    const arg = encodeVariant(data).bytes.toString('hex');
    expect(ofCommand(raw, 4)[0].data.toString('hex')).toBe(
      '04ff' + le32(spawnerId) + le32(1) + le32(1) + le32(7) + le32(2) + cstr('Crate1') + le32(arg.length / 2) + arg + vector2(3, 4),
    );
    expect(() => props.spawn({ kind: 'box', name: 'bad.name' })).toThrow(/not a valid node name/);
    // A spawn state without a value is a programming error: nothing is registered, nothing sent.
    expect(() => props.spawn({ kind: 'box', name: 'Crate6' })).toThrow(/\.:position.*no value/);
    expect(s.mp.getNode('Game/Props/Crate6')).toBeUndefined();
    for (let i = 2; i <= 4; i++) expect(props.spawn({ kind: 'box', name: `Crate${i}` }, (c) => c.set('position', new Vector2(i, i)))).not.toBeNull();
    expect(props.spawn({ kind: 'box', name: 'Crate5' }, (c) => c.set('position', new Vector2(5, 5)))).toBeNull(); // spawn_limit = 4
    expect(errors.some((m) => /Spawn limit reached/.test(m))).toBe(true);
    crate?.remove();
    expect(props.spawn({ kind: 'box', name: 'Crate5' }, (c) => c.set('position', new Vector2(5, 5)))).not.toBeNull();
    await pumpUntil([s, raw], () => ofCommand(raw, 5).length === 1 && ofCommand(raw, 4).length === 5, 'the DESPAWN of Crate1 and the other spawns');
    expect(ofCommand(raw, 5)[0].data.toString('hex')).toBe('05' + le32(1));

    props.setMultiplayerAuthority(raw.id);
    expect(props.spawn({ kind: 'box', name: 'Crate7' })).toBeNull();
  });

  test("max_sync_packet_size splits one frame's SYNC into packets of the same sequence", async () => {
    const s = server();
    expect(s.mp.maxSyncPacketSize).toBe(1350);
    s.mp.maxSyncPacketSize = 100; // refused: at least 128
    expect(s.mp.maxSyncPacketSize).toBe(1350);
    s.mp.maxSyncPacketSize = 128;
    for (let i = 0; i < 10; i++) spawnPlayer(s, 5000 + i);
    const raw = await rawJoin(s);
    await pumpUntil([s, raw], () => ofCommand(raw, 6).length >= 3, 'the first SYNCs');
    const first = ofCommand(raw, 6)[0].data.readUInt16LE(1);
    const frame = ofCommand(raw, 6).filter((p) => p.data.readUInt16LE(1) === first);
    // 28 bytes per entry (net id, size, position, rotation): 4 fit in 128 bytes with the 3-byte header.
    expect(frame.map((p) => p.data.length)).toEqual([115, 115, 59]);
    const ids = frame.flatMap((p) => [...syncEntries(p.data).keys()]);
    expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => 2 * i + 2));
  });

  test('a static synchronizer goes by its path: no DELTA before CONFIRM_PATH, then 0x80000000 | cache id', async () => {
    const s = server();
    const raw = await rawJoin(s);
    const world = s.mp.getNode('Game/World') as NetworkNode;
    world.set('clock', 5);
    await pumpUntil([s, raw], () => cacheIds(raw).has('Game/World/WorldSync'), 'the SIMPLIFY_PATH of WorldSync');
    await pumpFor([s, raw], 50);
    expect(ofCommand(raw, 0x16)).toHaveLength(0);
    const id = cacheIds(raw).get('Game/World/WorldSync') ?? -1;
    raw.send([2, 1, ...Buffer.from(le32(id), 'hex')]);
    await pumpUntil([s, raw], () => ofCommand(raw, 0x16).length === 1, 'the DELTA');
    expect(ofCommand(raw, 0x16)[0].data.toString('hex')).toBe('16' + le32((0x80000000 | id) >> 0) + '0100000000000000' + le32(2) + '0205');
  });

  test('values are typed as the game declares them: set() refuses the wrong type, an int rotation leaves as a float', async () => {
    const s = server();
    const raw = await rawJoin(s);
    const player = spawnPlayer(s, raw.id);
    expect(() => player.set('health', 1.5)).toThrow(/int/);
    expect(() => player.set('position', 'here')).toThrow(/Vector2/);
    expect(() => player.set('position', undefined)).toThrow(/a value is needed/);
    expect(player.get('health')).toBe(100);
    player.set('rotation', 1);
    player.set('anything', 'untyped'); // not replicated: anything goes
    const seen = ofCommand(raw, 6).length;
    await pumpUntil([s, raw], () => ofCommand(raw, 6).length > seen + 1, 'a SYNC');
    expect(syncEntries(ofCommand(raw, 6).at(-1)!.data).get(2)).toBe(vector2(10, 20) + floatValue(1));
    expect(() =>
      s.mp.instantiate(PLAYER, 'Game/Players/77', (p) => {
        p.set('position', new Vector2(0, 0));
      }),
    ).toThrow(/rotation.*health.*no value|no value/);
    expect(s.mp.getNode('Game/Players/77')).toBeUndefined();
  });
});

describe('manifests', () => {
  test('the tutorial project: inherited scripts, an instanced level with an overridden interval, a .tres input config, enum and subname properties', async () => {
    const tutorial = readManifest(path.join(__dirname, 'fixtures', 'godot-projects', 'tutorial'));
    const s = sceneServer((mp) => mp.loadManifest(tutorial), { tickRate: 0 });
    const doorSync = s.mp.getNode('Main/Level/Door/DoorSync') as MultiplayerSynchronizer;
    expect(doorSync).toBeInstanceOf(MultiplayerSynchronizer);
    expect(doorSync.replicationInterval).toBe(0.5); // main.tscn overrides level.tscn's 0
    expect(doorSync.replicationConfig?.getProperties().map((p) => [p.path, p.mode, p.type.text])).toEqual([
      ['.:position', 1, 'Vector2'],
      ['.:open', 2, 'bool'],
    ]);
    const spawner = s.mp.getNode('Main/PlayerSpawner') as MultiplayerSpawner;
    expect([spawner.getSpawnableSceneCount(), spawner.getSpawnableScene(1), spawner.spawnLimit]).toEqual([2, 'res://props/crate.tscn', 8]);
    expect(spawner.getSpawnNode()?.path).toBe('Main/Players');
    const raw = await rawJoin(s);
    const player = s.mp.instantiate('res://player/player.tscn', `Main/Players/${raw.id}`, (p) => {
      p.set('position', new Vector2(1, 2));
      p.set('rotation', 0);
      p.set('health', 100);
      p.set('team', 1); // enum Team: an int on the wire
      p.set('velocity', new Vector2(5, 0)); // .:velocity:x is NEVER: not sent
      p.getNode('InputSync')?.setMultiplayerAuthority(raw.id);
    });
    expect((player.getNode('InputSync') as MultiplayerSynchronizer).replicationConfig?.getProperties().map((p) => p.path)).toEqual(['.:direction', '.:jumping']);
    await pumpUntil([s, raw], () => ofCommand(raw, 4).length === 1, 'the SPAWN');
    expect(ofCommand(raw, 4)[0].data.toString('hex').endsWith(cstr(String(raw.id)) + vector2(1, 2) + floatValue(0) + '0264' + '0201')).toBe(true);
    expect(() => player.set('team', 'RED')).toThrow(/int/);
  });

  test('a subname property (.:velocity:x) reads and writes one member of the value', async () => {
    const info = {
      rootPath: '..',
      replicationInterval: 0,
      deltaInterval: 0,
      publicVisibility: true,
      visibilityUpdateMode: 0,
      replicationConfig: { source: 'test', properties: [{ path: '.:velocity:x', spawn: false, replicationMode: 'always' as const, type: 'float' }] },
    };
    const s = sceneServer((mp) => {
      mp.registerNode('Body');
      mp.registerNode('Body/Sync', {}, { synchronizer: info });
    }, { tickRate: 0 });
    const c = sceneClient(s.port, (mp) => {
      mp.registerNode('Body').set('velocity', new Vector2(0, 9));
      mp.registerNode('Body/Sync', {}, { synchronizer: info });
    });
    s.mp.getNode('Body')?.set('velocity', new Vector2(3, 4));
    await pumpUntil([s, c], () => (c.mp.getNode('Body')?.get('velocity') as Vector2).x === 3, 'the synced member');
    expect(c.mp.getNode('Body')?.get('velocity')).toEqual(new Vector2(3, 9));
    expect(c.mp.getNode('Body')?.get('velocity')).toBeInstanceOf(Vector2);
  });
});

describe('synchronizer timing (Godot semantics)', () => {
  test('replication_interval and the inbound sequence check', () => {
    const mp = new SceneMultiplayer();
    const sync = mp.registerNode('S', {}, {
      synchronizer: { rootPath: '.', replicationInterval: 0.05, deltaInterval: 0.1, publicVisibility: true, visibilityUpdateMode: 0, replicationConfig: null },
    }) as MultiplayerSynchronizer;
    expect(sync.replicationInterval).toBe(0.05);
    expect(sync.updateOutboundSyncTime(1_000_000)).toBe(true);
    expect(sync.updateOutboundSyncTime(1_000_000)).toBe(true); // the same frame, another peer
    expect(sync.updateOutboundSyncTime(1_049_999)).toBe(false);
    expect(sync.updateOutboundSyncTime(1_050_000)).toBe(true);
    expect(sync.deltaDue(1_050_000, 1_000_000)).toBe(false);
    expect(sync.deltaDue(1_100_000, 1_000_000)).toBe(true);
    expect(sync.updateInboundSyncTime(5)).toBe(true);
    expect(sync.updateInboundSyncTime(5)).toBe(false);
    expect(sync.updateInboundSyncTime(4)).toBe(false);
    expect(sync.updateInboundSyncTime(6)).toBe(true);
    expect(sync.updateInboundSyncTime(65000)).toBe(true); // far ahead
    expect(sync.updateInboundSyncTime(3)).toBe(true); // wrapped around
    expect(() => (sync.replicationInterval = -1)).toThrow(RangeError);
  });
});

describe("clients' input synchronizers reach the server", () => {
  test('path-based SYNC and DELTA after our CONFIRM_PATH, typed; stale, foreign and malformed ones dropped and counted', async () => {
    const s = server();
    const a = await rawJoin(s);
    const b = await rawJoin(s);
    const player = spawnPlayer(s, a.id);
    const input = player.getNode('InputSync') as MultiplayerSynchronizer;
    const events: string[] = [];
    input.on('synchronized', () => events.push('synchronized'));
    input.on('delta_synchronized', () => events.push('delta_synchronized'));
    const inputPath = `Game/Players/${a.id}/InputSync`;
    a.send(hex(simplifyPath(7, inputPath)));
    await pumpUntil([s, a], () => a.got.some((p) => p.data.toString('hex') === '02' + '01' + le32(7)), 'CONFIRM_PATH');
    const sync = (seq: number, netId: number, state: string) => hex('06' + le32(seq).slice(0, 4) + le32(netId >> 0) + le32(state.length / 2) + state);
    a.send(sync(1, 0x80000007, vector2(1, 0)), UNRELIABLE);
    await pumpUntil([s, a], () => events.includes('synchronized'), 'the input');
    expect(input.get('direction')).toEqual(new Vector2(1, 0));

    const counters = () => s.mp.getCounters();
    const before = counters();
    a.send(sync(1, 0x80000007, vector2(9, 9)), UNRELIABLE); // stale: not newer than 1
    await pumpUntil([s, a], () => counters().staleSync === before.staleSync + 1, 'the stale SYNC');
    expect(input.get('direction')).toEqual(new Vector2(1, 0));
    a.send(sync(2, 0x80000007, '02' + '05'), UNRELIABLE); // an int for a Vector2
    await pumpUntil([s, a], () => counters().badState === before.badState + 1, 'the mistyped SYNC');
    a.send(hex('16' + le32(0x80000007 >> 0) + '0100000000000000' + le32(2) + '0203'));
    await pumpUntil([s, a], () => input.get('jumps') === 3, 'the DELTA');
    expect(events).toEqual(['synchronized', 'delta_synchronized']);
    a.send(hex('16' + le32(0x80000007 >> 0) + '0200000000000000' + le32(2) + '0203')); // bit 1: InputSync watches one property
    a.send(hex('16' + le32(0x80000007 >> 0) + '0000000000000080' + le32(2) + '0203')); // bit 63
    a.send(hex('16' + le32(0x80000007 >> 0) + '0100000000000000' + le32(3) + '020300')); // a byte too many
    await pumpUntil([s, a], () => counters().badState === before.badState + 4, 'the bad deltas');

    // B names A's input synchronizer too, but is not its authority.
    b.send(hex(simplifyPath(3, inputPath)));
    b.send(sync(10, 0x80000003, vector2(6, 6)), UNRELIABLE);
    b.send(hex('16' + le32(0x80000003 >> 0) + '0100000000000000' + le32(2) + '0209'));
    await pumpUntil([s, b], () => counters().replicationDenied === before.replicationDenied + 2, 'the foreign input');
    expect(input.get('direction')).toEqual(new Vector2(1, 0));
    expect(input.get('jumps')).toBe(3);
    expect(counters().handlerError).toBe(before.handlerError);
  });

  test('our client end to end: SPAWN instantiates the manifest scene, SYNC and DELTA land, its input flows back, DESPAWN removes it', async () => {
    const s = server(60);
    const c = client(s.port);
    await pumpUntil([s, c], () => s.mp.getPeers().length === 1, 'admission');
    const id = c.mp.getUniqueId();
    const spawner = c.mp.getNode('Game/PlayerSpawner') as MultiplayerSpawner;
    const spawned: NetworkNode[] = [];
    const despawned: NetworkNode[] = [];
    spawner.on('spawned', (node: NetworkNode) => spawned.push(node));
    spawner.on('despawned', (node: NetworkNode) => despawned.push(node));
    const player = spawnPlayer(s, id);
    s.mp.getNode('Game/World')?.set('clock', 12);
    await pumpUntil([s, c], () => spawned.length === 1, 'the spawn');
    const mine = spawned[0];
    expect(mine.path).toBe(`Game/Players/${id}`);
    expect(mine.sceneFilePath).toBe(PLAYER);
    expect([mine.get('position'), mine.get('rotation'), mine.get('health')]).toEqual([new Vector2(10, 20), 0.5, 100]);
    expect(mine.getNode('InputSync')?.getMultiplayerAuthority()).toBe(id);

    player.set('position', new Vector2(30, 40));
    player.set('health', 75);
    player.getNode('Tag')?.set('text', 'leader');
    await pumpUntil([s, c], () => (mine.get('position') as Vector2).x === 30 && mine.get('health') === 75 && mine.getNode('Tag')?.get('text') === 'leader', 'the updates');
    await pumpUntil([s, c], () => c.mp.getNode('Game/World')?.get('clock') === 12, 'the clock');

    // The input: our client is its authority and shows it to the server only, as player_input.gd does.
    const myInput = mine.getNode('InputSync') as MultiplayerSynchronizer;
    myInput.setVisibilityFor(1, true);
    myInput.set('direction', new Vector2(0, -1));
    myInput.set('jumps', 2);
    const serverInput = player.getNode('InputSync') as NetworkNode;
    await pumpUntil([s, c], () => (serverInput.get('direction') as Vector2 | undefined)?.y === -1 && serverInput.get('jumps') === 2, 'the input at the server');

    player.remove();
    await pumpUntil([s, c], () => despawned.length === 1, 'the despawn');
    expect(despawned[0]).toBe(mine);
    expect(c.mp.getNode(`Game/Players/${id}`)).toBeUndefined();
    expect(mine.isRegistered).toBe(false);
    for (const mp of [s.mp, c.mp]) {
      const { unknownNetId, ...rest } = mp.getCounters();
      expect(Object.values(rest).every((n) => n === 0)).toBe(true);
      expect(unknownNetId).toBeGreaterThanOrEqual(0); // a SYNC may overtake its SPAWN (unreliable vs reliable)
    }
  });

  test("a client that is a spawner's authority spawns on the server; its spawns go when it leaves", async () => {
    const s = server();
    const raw = await rawJoin(s);
    const props = s.mp.getNode('Game/PropSpawner') as MultiplayerSpawner;
    props.setMultiplayerAuthority(raw.id);
    props.spawnFunction = () => ({ scene: 'res://crate.tscn' });
    // The crates (and their CrateSync) belong to the spawning peer, as its spawn_function would set it.
    s.mp.on('node_added', (node) => node.sceneFilePath === 'res://crate.tscn' && node.setMultiplayerAuthority(raw.id));
    const spawned: NetworkNode[] = [];
    props.on('spawned', (node: NetworkNode) => spawned.push(node));
    raw.send(hex(simplifyPath(1, 'Game/PropSpawner')));
    const arg = encodeVariant('box').bytes.toString('hex');
    const spawn = (name: string, netId: number) =>
      hex('04ff' + le32(1) + le32(netId) + le32(1) + le32(name.length + 1) + le32(netId + 100) + cstr(name) + le32(arg.length / 2) + arg + vector2(netId, 1));
    for (let i = 1; i <= 5; i++) raw.send(spawn(`Box${i}`, i));
    await pumpUntil([s, raw], () => s.mp.getCounters().spawnLimit === 1, 'the fifth spawn refused');
    expect(spawned.map((n) => n.path)).toEqual(['Game/Props/Box1', 'Game/Props/Box2', 'Game/Props/Box3', 'Game/Props/Box4']);
    expect(s.mp.getNode('Game/Props/Box2')?.get('position')).toEqual(new Vector2(2, 1));
    raw.send(hex('05' + le32(2)));
    await pumpUntil([s, raw], () => s.mp.getNode('Game/Props/Box2') === undefined, 'the DESPAWN');
    raw.peer.close();
    await pumpUntil([s], () => s.mp.getNode('Game/Props/Box1') === undefined, 'the spawns of a leaving peer to go');
    expect(s.mp.getNode('Game/Props/Box4')).toBeUndefined();
    expect(s.mp.getNode('Game/Props')).toBeDefined();
  });
});

describe('hostile replication packets', () => {
  test('malformed or unauthorized SPAWN, DESPAWN, SYNC and DELTA are dropped and counted; the server keeps working', async () => {
    const s = server();
    const raw = await rawJoin(s);
    raw.send(hex(simplifyPath(1, 'Game/PlayerSpawner')));
    raw.send(hex(simplifyPath(2, 'Game/Players')));
    const name = cstr('x');
    const cases: [string, string, keyof ReturnType<SceneMultiplayer['getCounters']>][] = [
      ['short SPAWN', '0400010000000100000000000000', 'malformed'],
      ['SPAWN through an unknown id', '04009999000001000000000000000200000078' + '00', 'unknownSpawner'],
      ['SPAWN through a node that is no spawner', '0400' + le32(2) + le32(1) + le32(0) + le32(2) + name, 'unknownSpawner'],
      ["SPAWN through the server's spawner", '0400' + le32(1) + le32(1) + le32(0) + le32(2) + name, 'replicationDenied'],
      ['DESPAWN too short', '05010000', 'malformed'],
      ['DESPAWN of a node it never spawned', '05' + le32(1), 'unknownNetId'],
      ['SYNC too short', '0601000100000001', 'malformed'],
      ['SYNC entry larger than the packet', '060100' + le32(1) + le32(-1) + '00', 'malformed'],
      ['SYNC of an unknown net id', '060100' + le32(77) + le32(1) + '00', 'unknownNetId'],
      ['SYNC of an unknown path id', '060100' + le32(0x80000063 >> 0) + le32(1) + '00', 'unknownNetId'],
      ['DELTA entry larger than the packet', '16' + le32(1) + '0100000000000000' + le32(0x7fffffff) + '00', 'malformed'],
      ['DELTA of an unknown net id', '16' + le32(1) + 'ffffffffffffffff' + le32(1) + '00', 'unknownNetId'],
    ];
    for (const [what, bytes, reason] of cases) {
      const before = s.mp.getCounters()[reason];
      raw.send(hex(bytes));
      await pumpUntil([s, raw], () => s.mp.getCounters()[reason] === before + 1, what);
    }
    // Through a spawner the client is the authority of, the SPAWN itself is checked.
    const props = s.mp.getNode('Game/PropSpawner') as MultiplayerSpawner;
    props.setMultiplayerAuthority(raw.id);
    raw.send(hex(simplifyPath(3, 'Game/PropSpawner')));
    const arg = encodeVariant('box').bytes.toString('hex');
    const custom = (nodeName: string, netId: number, argHex = arg, argSize = argHex.length / 2) =>
      '04ff' + le32(3) + le32(netId) + le32(0) + le32(nodeName.length + 1) + cstr(nodeName) + le32(argSize) + argHex;
    const spawnCases: [string, string, keyof ReturnType<SceneMultiplayer['getCounters']>][] = [
      ['sizes that overflow 32 bits', '0400' + le32(3) + le32(1) + le32(0x40000000) + le32(-1) + '00', 'malformed'],
      ['an empty name', '04ff' + le32(3) + le32(1) + le32(0) + le32(0) + '00000000', 'malformed'],
      ['a name with a slash', custom('a/b', 1), 'badSpawn'],
      ["an '@' name", custom('@Crate@2', 1), 'badSpawn'],
      ['scene 0 of a spawner with no scenes', '0400' + le32(3) + le32(1) + le32(0) + le32(2) + cstr('x'), 'badSpawn'],
      ['no spawnFunction', custom('Box', 1), 'badSpawn'],
      ['an argument past the end', custom('Box', 1, arg, 999), 'malformed'],
      ['an argument that does not decode', custom('Box', 1, 'ff000000'), 'badState'],
    ];
    for (const [what, bytes, reason] of spawnCases) {
      const before = s.mp.getCounters()[reason];
      raw.send(hex(bytes));
      await pumpUntil([s, raw], () => s.mp.getCounters()[reason] === before + 1, what);
    }
    props.spawnFunction = () => {
      throw new Error('boom');
    };
    const handlerErrors = s.mp.getCounters().handlerError;
    raw.send(hex(custom('Box', 1)));
    await pumpUntil([s, raw], () => s.mp.getCounters().handlerError === handlerErrors + 1, 'the throwing spawnFunction');
    props.spawnFunction = () => ({ scene: 'res://nowhere.tscn' });
    const badSpawns = s.mp.getCounters().badSpawn;
    raw.send(hex(custom('Box', 1)));
    await pumpUntil([s, raw], () => s.mp.getCounters().badSpawn === badSpawns + 1, 'a scene the manifest does not have');
    props.spawnFunction = () => ({ scene: 'res://crate.tscn' });
    raw.send(hex(custom('Box', 1)));
    await pumpUntil([s, raw], () => s.mp.getNode('Game/Props/Box') !== undefined, 'a good custom spawn');
    raw.send(hex(custom('Box', 2))); // the name is taken
    raw.send(hex(custom('Box2', 1))); // the net id is taken
    await pumpUntil([s, raw], () => s.mp.getCounters().badSpawn === badSpawns + 3, 'the clashes');
    expect(s.mp.getNode('Game/Props/Box2')).toBeUndefined();
    // Still serving.
    spawnPlayer(s, raw.id);
    await pumpUntil([s, raw], () => ofCommand(raw, 4).length === 1, 'a legitimate SPAWN after all that');
  });
});

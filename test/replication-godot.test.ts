/**
 * Replication against a real Godot 4.6 (the web oracle, test/godot4/): Godot 4.6 clients — several
 * branches of one Godot, each its own SceneMultiplayer with the game of test/fixtures/replication-godot
 * — join our server, which spawns their players (MultiplayerSpawner, auto-spawn by scene) and crates
 * (custom spawns), streams state (SYNC / DELTA), hides and shows players per peer, and receives each
 * client's input synchronizer. Then our client joins a Godot 4.6 server of the same game. Our side
 * reads the game with readManifest; Godot runs its scenes and scripts unchanged.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'fs';
import * as path from 'path';
import {
  ENetMultiplayerPeer,
  GodotError,
  MultiplayerSpawner,
  MultiplayerSynchronizer,
  NetworkNode,
  SceneMultiplayer,
  Vector2,
  readManifest,
  setErrorReporter,
} from '../src';
import { GodotOracle, OracleReport, hex, scriptScene, until } from './godot4/oracle';

const FIXTURE = path.join(__dirname, 'fixtures', 'replication-godot');
const MANIFEST = readManifest(FIXTURE);
const PLAYER = 'res://player.tscn';

let oracle: GodotOracle;
const ourErrors: string[] = [];
const peers: ENetMultiplayerPeer[] = [];

beforeAll(async () => {
  setErrorReporter((message) => ourErrors.push(message));
  const files: Record<string, string> = { 'main.tscn': scriptScene('res://main.gd') };
  for (const file of fs.readdirSync(FIXTURE)) if (/\.(gd|tscn)$/.test(file)) files[file] = fs.readFileSync(path.join(FIXTURE, file), 'utf8');
  oracle = await GodotOracle.start({ files });
}, 90000);

afterAll(async () => {
  for (const peer of peers) peer.close();
  await oracle?.stop();
  setErrorReporter(() => undefined);
});

/** Our SceneMultiplayer of the fixture game, polling itself, 60 network frames a second. */
function ourEnd(): { peer: ENetMultiplayerPeer; mp: SceneMultiplayer } {
  const peer = new ENetMultiplayerPeer();
  peers.push(peer);
  const mp = new SceneMultiplayer({ autoPoll: 2, tickRate: 60 });
  mp.loadManifest(MANIFEST);
  return { peer, mp };
}

function nextEvent(branch: string, event: string, extra: (r: OracleReport) => boolean = () => true): Promise<OracleReport> {
  return oracle.nextReport((r) => r.data.branch === branch && r.data.event === event && extra(r));
}

const reportsOf = (branch: string, event: string, name?: string) =>
  oracle.reports.filter((r) => r.data.branch === branch && r.data.event === event && (name === undefined || r.data.name === name));

async function godotClient(branch: string, port: number): Promise<{ id: number; bridge: number }> {
  const created = oracle.nextReport((r) => r.data.event === 'created' && r.data.branch === branch);
  const connected = nextEvent(branch, 'connected');
  oracle.command('client', branch, port);
  const report = await created;
  expect(report.data.error).toBe(GodotError.OK);
  await connected;
  return { id: report.data.id, bridge: report.data.bridge };
}

describe('Godot 4.6 clients of our replicating server', () => {
  const server = ourEnd();
  const players = new Map<number, NetworkNode>();
  let A = { id: 0, bridge: 0 };
  let B = { id: 0, bridge: 0 };
  let mover: NodeJS.Timeout | undefined;
  const sentPositions = new Map<number, Vector2[]>();

  afterAll(() => clearInterval(mover));

  test('spawns a player for each Godot client: by scene index, with its spawn state; the input synchronizer is the player\'s', async () => {
    server.peer.setBindIp('127.0.0.1');
    expect(server.peer.createServer(0)).toBe(GodotError.OK);
    server.mp.multiplayerPeer = server.peer;
    server.mp.on('peer_connected', (id) => {
      const player = server.mp.instantiate(PLAYER, `Game/Players/${id}`, (p) => {
        p.set('position', new Vector2(100, 50));
        p.set('rotation', 0.25);
        p.set('health', 100);
        p.getNode('InputSync')?.setMultiplayerAuthority(id);
      });
      players.set(id, player);
    });
    server.mp.on('peer_disconnected', (id) => players.get(id)?.remove());
    const port = server.peer.host?.getLocalPort() ?? 0;

    A = await godotClient('A', port);
    const aSeesB = nextEvent('A', 'spawned', (r) => r.data.kind === 'player' && r.data.name !== String(A.id));
    B = await godotClient('B', port);
    await aSeesB;
    await until(() => reportsOf('B', 'spawned').length === 2, 'B to spawn both players');
    for (const branch of ['A', 'B']) {
      for (const id of [A.id, B.id]) {
        const [spawned] = reportsOf(branch, 'spawned', String(id));
        expect(spawned.data).toMatchObject({ kind: 'player', position: new Vector2(100, 50), health: 100, tag: '', input_authority: id });
        expect(spawned.data.rotation).toBeCloseTo(0.25, 6);
        expect(spawned.types).toMatchObject({ position: 'Vector2', rotation: 'float', health: 'int' });
      }
    }
    // The SPAWN Godot got: scene 0 of PlayerSpawner, net ids 1 (the player) and 2 (ServerSync).
    const spawn = oracle.packets.find((p) => p.bridge === A.bridge && p.direction === 'received' && p.data[0] === 4);
    expect(hex(spawn!.data).slice(0, 4)).toBe('0400');
    expect(hex(spawn!.data).slice(12, 28)).toBe('0100000001000000');
  });

  test("positions and rotations arrive by SYNC at ServerSync's 0.1 s interval; health and the tag by DELTA", async () => {
    let step = 0;
    for (const id of players.keys()) sentPositions.set(id, [new Vector2(100, 50)]); // a SYNC may be on its way
    mover = setInterval(() => {
      step++;
      for (const [id, player] of players) {
        const at = new Vector2(100 + step, 50 + (id % 7));
        player.set('position', at);
        player.set('rotation', step / 100);
        sentPositions.set(id, [...(sentPositions.get(id) ?? []), at]);
      }
    }, 16);
    const from = reportsOf('A', 'synced', String(A.id)).length;
    await until(() => reportsOf('A', 'synced', String(A.id)).length >= from + 12, '12 SYNCs of A at A', 15000);
    const synced = reportsOf('A', 'synced', String(A.id)).slice(from);
    for (const r of synced) {
      expect(sentPositions.get(A.id)).toContainEqual(r.data.position);
      expect(r.types.rotation).toBe('float');
    }
    // Godot's own clock between its synchronized signals: the configured 0.1 s (frames are 1/60 s apart).
    const gaps = synced.slice(1).map((r, i) => (r.data.usec - synced[i].data.usec) / 1000).sort((x, y) => x - y);
    const median = gaps[Math.floor(gaps.length / 2)];
    expect(median).toBeGreaterThan(70);
    expect(median).toBeLessThan(200);

    const deltas = [nextEvent('A', 'delta', (r) => r.data.name === String(B.id) && r.data.health === 80), nextEvent('B', 'delta', (r) => r.data.name === String(B.id) && r.data.health === 80)];
    players.get(B.id)?.set('health', 80);
    for (const d of await Promise.all(deltas)) expect(d.types.health).toBe('int');
    const tagged = nextEvent('A', 'delta', (r) => r.data.name === String(B.id) && r.data.tag === 'boss');
    players.get(B.id)?.getNode('Tag')?.set('text', 'boss');
    expect((await tagged).data.health).toBe(80);
    // DELTA is reliable: 0x16, entry net id 2 (ServerSync of the first player spawned to A... or the second's 4).
    const delta = oracle.packets.find((p) => p.bridge === A.bridge && p.direction === 'received' && p.data[0] === 0x16);
    expect(delta?.mode).toBe(2);
  });

  test('visibility: hidden from B only, B despawns the player while A keeps it; shown again, B respawns it with the current state', async () => {
    const sync = players.get(A.id)?.getNode('ServerSync') as MultiplayerSynchronizer;
    const gone = nextEvent('B', 'despawned', (r) => r.data.name === String(A.id));
    const onlyA = (peer: number) => peer === A.id;
    sync.addVisibilityFilter(onlyA);
    await gone;
    const aSynced = reportsOf('A', 'synced', String(A.id)).length;
    await until(() => reportsOf('A', 'synced', String(A.id)).length > aSynced + 2, 'A to keep syncing its player');
    expect(reportsOf('A', 'despawned')).toHaveLength(0);

    const back = nextEvent('B', 'spawned', (r) => r.data.name === String(A.id));
    sync.removeVisibilityFilter(onlyA);
    sync.updateVisibility();
    const respawned = await back;
    expect(sentPositions.get(A.id)).toContainEqual(respawned.data.position);
    expect(respawned.data.position.x).toBeGreaterThan(100);
  });

  test("a custom spawn through PropSpawner's spawn_function, with its data", async () => {
    const props = server.mp.getNode('Game/PropSpawner') as MultiplayerSpawner;
    props.spawnFunction = (data) => ({ scene: 'res://crate.tscn', name: (data as { name: string }).name });
    const seen = ['A', 'B'].map((branch) => nextEvent(branch, 'spawned', (r) => r.data.name === 'Crate1'));
    const crate = props.spawn({ kind: 'barrel', name: 'Crate1' }, (c) => c.set('position', new Vector2(-3, 4.5)));
    expect(crate).not.toBeNull();
    for (const r of await Promise.all(seen)) expect(r.data).toMatchObject({ kind: 'barrel', position: new Vector2(-3, 4.5) });
    const custom = oracle.packets.find((p) => p.bridge === A.bridge && p.direction === 'received' && p.data[0] === 4 && p.data[1] === 0xff);
    expect(custom).toBeDefined();

    const removed = ['A', 'B'].map((branch) => nextEvent(branch, 'despawned', (r) => r.data.name === 'Crate1'));
    crate?.remove();
    await Promise.all(removed);
  });

  test('a static synchronizer: World.clock by DELTA with a path-based net id', async () => {
    const clock = nextEvent('A', 'clock', (r) => r.data.clock === 42);
    server.mp.getNode('Game/World')?.set('clock', 42);
    await clock;
    const delta = oracle.packets.find((p) => p.bridge === A.bridge && p.direction === 'received' && p.data[0] === 0x16 && (p.data[4] & 0x80) !== 0);
    expect(delta).toBeDefined();
  });

  test("a Godot client's input synchronizer reaches our server with its values and types", async () => {
    const input = players.get(A.id)?.getNode('InputSync') as MultiplayerSynchronizer;
    const got: string[] = [];
    input.on('synchronized', () => got.push('sync'));
    input.on('delta_synchronized', () => got.push('delta'));
    oracle.command('input', 'A', new Vector2(0.5, -1), 3);
    await until(() => (input.get('direction') as Vector2 | undefined)?.x === 0.5 && input.get('jumps') === 3, 'the input at our server');
    expect(input.get('direction')).toEqual(new Vector2(0.5, -1));
    expect(got).toContain('sync');
    expect(got).toContain('delta');
    // Godot named its InputSync by path (SIMPLIFY_PATH), then synced it as 0x80000000 | that id.
    const simplify = oracle.packets.find((p) => p.bridge === A.bridge && p.direction === 'sent' && p.data[0] === 1 && p.data.toString('latin1').endsWith(`Game/Players/${A.id}/InputSync\0`));
    expect(simplify).toBeDefined();
    const id = simplify!.data.readUInt32LE(34);
    expect(oracle.packets.some((p) => p.bridge === A.bridge && p.direction === 'sent' && p.data[0] === 6 && p.data.readUInt32LE(3) === (0x80000000 | id) >>> 0)).toBe(true);
    // B's player has B's own (idle) input, not A's.
    expect(players.get(B.id)?.getNode('InputSync')?.get('direction')).toEqual(new Vector2(0, 0));
  });

  test('DESPAWN removes a player on every client when its peer leaves', async () => {
    const gone = nextEvent('A', 'despawned', (r) => r.data.name === String(B.id));
    oracle.command('close', 'B');
    await gone;
    const nodes = nextEvent('A', 'nodes');
    oracle.command('nodes', 'A');
    expect([...((await nodes).data.players as Map<string, unknown>).keys()]).toEqual([String(A.id)]);
  });
});

describe("our client of a Godot 4.6 server's spawner and synchronizers", () => {
  const client = ourEnd();
  let me: NetworkNode | undefined;

  test('joins; the Godot server spawns our player with its spawn state', async () => {
    const created = oracle.nextReport((r) => r.data.event === 'created' && r.data.branch === 'S');
    oracle.command('server', 'S');
    const bridge = (await created).data.bridge;
    const { port } = await oracle.waitForBridge((b) => b.id === bridge && b.port > 0);
    // What player.gd's _enter_tree does: the player's peer owns its input.
    client.mp.on('node_added', (node) => {
      if (node.sceneFilePath === PLAYER) node.getNode('InputSync')?.setMultiplayerAuthority(Number(node.name));
    });
    const spawner = client.mp.getNode('Game/PlayerSpawner') as MultiplayerSpawner;
    spawner.on('spawned', (node: NetworkNode) => (me = node));
    expect(client.peer.createClient('127.0.0.1', port)).toBe(GodotError.OK);
    client.mp.multiplayerPeer = client.peer;
    const id = client.peer.getUniqueId();
    await until(() => me !== undefined, 'our player to be spawned');
    expect(me?.path).toBe(`Game/Players/${id}`);
    expect([me?.get('position'), me?.get('rotation'), me?.get('health')]).toEqual([new Vector2(10, 20), 0.5, 100]);
    expect(me?.getNode('InputSync')?.getMultiplayerAuthority()).toBe(id);
  });

  test("the server's SYNC and DELTA land on our nodes, typed", async () => {
    oracle.command('set_player', 'S', me!.name, new Vector2(5, 6.5), 70, 'tagged');
    oracle.command('set_clock', 'S', 9);
    await until(() => (me?.get('position') as Vector2).x === 5 && me?.get('health') === 70 && me?.getNode('Tag')?.get('text') === 'tagged', 'the updates');
    expect(me?.get('position')).toEqual(new Vector2(5, 6.5));
    await until(() => client.mp.getNode('Game/World')?.get('clock') === 9, 'the clock');
  });

  test('our input synchronizer reaches the Godot server', async () => {
    const input = me!.getNode('InputSync') as MultiplayerSynchronizer;
    input.setVisibilityFor(1, true); // as player_input.gd's _ready does for the player's own peer
    const heard = nextEvent('S', 'input', (r) => r.data.jumps === 4 && r.data.direction?.y === 1);
    input.set('direction', new Vector2(-0.25, 1));
    input.set('jumps', 4);
    const report = await heard;
    expect(report.data.direction).toEqual(new Vector2(-0.25, 1));
    expect(report.types).toMatchObject({ direction: 'Vector2', jumps: 'int' });
  });

  test('when the Godot server closes, the nodes it spawned here go', async () => {
    oracle.command('close', 'S');
    await until(() => me?.isRegistered === false, 'our player to be removed');
    expect(client.mp.getNode('Game/Players')).toBeDefined();
  });
});

describe('the end of the run', () => {
  test('nothing refused on either side', () => {
    expect(oracle.unexpectedErrors()).toEqual([]);
    expect(ourErrors).toEqual([]);
  });
});

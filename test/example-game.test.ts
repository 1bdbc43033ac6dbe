/**
 * The example game end to end: examples/godot-client (a real Godot 4 project) runs in a real Godot 4.6
 * (the web oracle) against the server `npm start` runs (examples/dedicated-server.js), with a bot of
 * that server beside it. The only change to the project is its network.gd, which in the web build
 * (no sockets) makes a bridge peer instead of an ENetMultiplayerPeer; a test-only autoload (Probe)
 * reports where Godot's squares are.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import * as fs from 'fs';
import * as path from 'path';
import { GodotOracle, until } from './godot4/oracle';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const example = require('../examples/dedicated-server.js');

const PROJECT = path.join(__dirname, '..', 'examples', 'godot-client');

let oracle: GodotOracle;
let server: any;
let bot: any;
const log: string[] = [];

/** Reports the squares Godot has under Main/Players (name → position) every 0.1 s. */
const PROBE = [
  'extends Node',
  '',
  'var _since := 0.0',
  '',
  'func _process(delta: float) -> void:',
  '\t_since += delta',
  '\tvar players = get_node_or_null("/root/Main/Players")',
  '\tif _since < 0.1 or players == null:',
  '\t\treturn',
  '\t_since = 0.0',
  '\tvar at := {}',
  '\tfor p in players.get_children():',
  '\t\tat[str(p.name)] = p.position',
  '\tOracle.report({"event": "players", "at": at})',
  '',
].join('\n');

beforeAll(async () => {
  server = example.startServer(0, (line: string) => log.push(line));
  const port = server.peer.host.getLocalPort();
  bot = example.startBot(port, 1);
  const files: Record<string, string> = { 'probe.gd': PROBE };
  for (const file of ['main.tscn', 'main.gd', 'player.tscn', 'player.gd', 'player_input.gd']) files[file] = fs.readFileSync(path.join(PROJECT, file), 'utf8');
  files['network.gd'] = [
    'extends RefCounted',
    '',
    '# The web build has no sockets: a bridge peer carried by the test\'s ENet, to the same server.',
    'static func create_client(_address: String, _port: int) -> MultiplayerPeer:',
    '\tvar peer := BridgePeer.new()',
    `\tpeer.create_client("127.0.0.1", ${port})`,
    '\treturn peer',
    '',
  ].join('\n');
  oracle = await GodotOracle.start({ files, autoloads: { Probe: 'res://probe.gd' } });
}, 90000);

afterAll(async () => {
  bot?.close();
  server?.stop();
  server?.peer.close();
  await oracle?.stop();
});


test('the Godot game authenticates with its name and joins', async () => {
  await oracle.waitForOutput(/^server: welcome, player$/, 15000);
  const joined = await oracle.waitForOutput(/^connected as peer \d+$/, 15000);
  const id = Number(/\d+/.exec(joined)?.[0]);
  await until(() => log.includes(`player joined (peer ${id})`), 'the server to admit the player');
});

/** Where Godot saw the square of `name` in each Probe report so far. */
function godotSaw(name: string): { x: number; y: number }[] {
  return oracle.reports.filter((r) => r.data.event === 'players' && r.data.at.has(name)).map((r) => r.data.at.get(name));
}

const moved = (positions: { x: number; y: number }[]) => new Set(positions.map((p) => `${p.x},${p.y}`)).size > 3;

test("the server spawns a square for every player and moves it from the player's input: Godot sees its own and the bot's move, the bot sees Godot's", async () => {
  const id = Number(/\d+/.exec(oracle.output.find((l) => l.startsWith('connected as peer')) ?? '')?.[0]);
  const botId = bot.multiplayer.getUniqueId();
  await oracle.waitForOutput(/^bot1 is here$/, 15000);
  await oracle.waitForOutput(/^player is here$/, 15000);
  // Godot's input (player_input.gd wanders when idle) reaches the server, which moves the square.
  await until(() => server.stats.inputs > 0 && moved(godotSaw(String(id))), "Godot's own square to move", 15000);
  await until(() => moved(godotSaw(String(botId))), "the bot's square to move in Godot", 15000);
  const godotSquareAtBot: { x: number; y: number }[] = [];
  await until(() => {
    const at = bot.multiplayer.getNode(`Main/Players/${id}`)?.get('position');
    if (at !== undefined) godotSquareAtBot.push(at);
    return moved(godotSquareAtBot);
  }, "Godot's square to move at the bot", 15000);
  expect(bot.multiplayer.getNode(`Main/Players/${id}`)?.get('player_name')).toBe('player');
  // The squares stay in the world's bounds.
  for (const at of [...godotSaw(String(id)), ...godotSaw(String(botId))]) {
    expect(at.x).toBeGreaterThanOrEqual(16);
    expect(at.x).toBeLessThanOrEqual(784);
  }
});

test('chat: a line from another player comes back from the server to the Godot game', async () => {
  bot.main.rpcId(1, 'chat', 'hello godot');
  await oracle.waitForOutput(/^bot1: hello godot$/, 15000);
});

test('Godot printed no error', () => {
  expect(oracle.unexpectedErrors()).toEqual([]);
});

/**
 * The example game end to end: examples/godot-client (a real Godot 4 project) runs in a real Godot 4.6
 * (the web oracle) against the server `npm start` runs (examples/dedicated-server.js), with a bot of
 * that server beside it. The only change to the project is its network.gd, which in the web build
 * (no sockets) makes a bridge peer instead of an ENetMultiplayerPeer.
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
const botSawMovesFrom = new Set<number>();

beforeAll(async () => {
  server = example.startServer(0, (line: string) => log.push(line));
  const port = server.peer.host.getLocalPort();
  bot = example.startBot(port, 1);
  bot.main.on('move', () => botSawMovesFrom.add(bot.multiplayer.getRemoteSenderId()));
  const files: Record<string, string> = {};
  for (const file of ['main.tscn', 'main.gd']) files[file] = fs.readFileSync(path.join(PROJECT, file), 'utf8');
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
  oracle = await GodotOracle.start({ files });
}, 90000);

afterAll(async () => {
  bot?.close();
  server?.peer.close();
  await oracle?.stop();
});


test('the Godot game authenticates with its name and joins', async () => {
  await oracle.waitForOutput(/^server: welcome, player$/, 15000);
  const joined = await oracle.waitForOutput(/^connected as peer \d+$/, 15000);
  const id = Number(/\d+/.exec(joined)?.[0]);
  await until(() => log.includes(`player joined (peer ${id})`), 'the server to admit the player');
});

test("the game's positions reach the server and, through its relay, the other players", async () => {
  const id = Number(/\d+/.exec(oracle.output.find((l) => l.startsWith('connected as peer')) ?? '')?.[0]);
  await until(() => botSawMovesFrom.has(id), "the bot to see the Godot player's moves");
  expect(server.stats.moves).toBeGreaterThan(0);
});

test('chat: a line from another player comes back from the server to the Godot game', async () => {
  bot.main.rpcId(1, 'chat', 'hello godot');
  await oracle.waitForOutput(/^bot1: hello godot$/, 15000);
});

test('Godot printed no error', () => {
  expect(oracle.unexpectedErrors()).toEqual([]);
});

/**
 * Times the oracle: Godot's boot, and the round trip of one packet through a bridge (our server →
 * bridge → Godot's SceneMultiplayer → send_bytes back → bridge → our server), one packet at a time.
 * Frame pacing included, so a round trip takes one to two of Godot's frames. Information only: no
 * test asserts a time.
 *
 *   node tools/ts-run.js test/godot4/measure.ts [round trips, default 100]
 */
import { ENetMultiplayerPeer, MultiplayerPacket } from '../../src';
import { GodotOracle, scriptScene } from './oracle';

const ECHO = `extends Node

func _ready() -> void:
	Oracle.command.connect(func(_name, args):
		var mp := SceneMultiplayer.new()
		var peer := BridgePeer.new()
		peer.create_client("127.0.0.1", args[0])
		mp.multiplayer_peer = peer
		get_tree().set_multiplayer(mp, get_path())
		mp.peer_packet.connect(func(id, data): mp.send_bytes(data, id))
		mp.connected_to_server.connect(func(): Oracle.report({"connected": true})))
`;

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 100);
  const server = new ENetMultiplayerPeer({ autoPoll: true });
  server.setBindIp('127.0.0.1');
  server.createServer(0);
  let received: ((p: MultiplayerPacket) => void) | undefined;
  server.on('packet', (p) => received?.(p));
  const oracle = await GodotOracle.start({ files: { 'main.gd': ECHO, 'main.tscn': scriptScene('res://main.gd') } });
  try {
    console.log(`boot: ${oracle.bootMs} ms (start() to the first frame after the main scene's _ready)`);
    const connected = oracle.nextReport((r) => r.data.connected === true);
    const started = Date.now();
    oracle.command('connect', server.host?.getLocalPort() ?? 0);
    await connected;
    console.log(`command, then connection through the bridge: ${Date.now() - started} ms`);
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const back = new Promise<MultiplayerPacket>((resolve) => (received = resolve));
      const t0 = process.hrtime.bigint();
      server.setTargetPeer(0);
      server.putPacket(Buffer.from([3, i & 0xff]));
      await back;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(1);
    console.log(`round trip over ${rounds}: min ${at(0)} ms, median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`);
  } finally {
    server.close();
    await oracle.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

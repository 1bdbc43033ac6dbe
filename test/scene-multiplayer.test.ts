/**
 * SceneMultiplayer between our own ends on real loopback ENet, and byte-exact against hand-made
 * packets (spec scene-multiplayer.md and its Appendix A). The same behaviour against a real Godot 4.6
 * is in scene-multiplayer-godot.test.ts.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { ENetMultiplayerPeer, GodotError, GodotFloat, MultiplayerPeer, NetworkNode, SceneMultiplayer, TransferMode, Vector2, encodeVariant, float } from '../src';
import { captureErrors } from './helpers/loopback';
import { RawClient, closePeersAfterEach, hex, le32, pumpFor, pumpUntil, sceneClient, sceneServer } from './helpers/scene';

const errors = captureErrors();
closePeersAfterEach();

const RELIABLE = TransferMode.TRANSFER_MODE_RELIABLE;
const UNRELIABLE = TransferMode.TRANSFER_MODE_UNRELIABLE;

/** The checksum of a node whose script has @rpc hello, move, ping (the web-oracle guide's example). */
const GAME_MD5 = '7edcec5ae1a43c4c94f0e088623dae75';
const GAME_RPCS = {
  hello: '@rpc("any_peer")',
  move: '@rpc("authority", "call_remote", "unreliable", 1)',
  ping: '@rpc("any_peer")',
} as const;

/** The plain Variant encoding, as hex (arguments inside containers travel in this form). */
function plain(value: unknown): string {
  return encodeVariant(value).bytes.toString('hex');
}

describe('peers', () => {
  it('admits clients, and tells each client about the others (ADD_PEER) and who left (DEL_PEER)', async () => {
    const server = sceneServer();
    const a = sceneClient(server.port);
    const events: string[] = [];
    server.mp.on('peer_connected', (id) => events.push(`server+${id}`));
    a.mp.on('connected_to_server', () => events.push('a:connected_to_server'));
    await pumpUntil([server, a], () => a.mp.getPeers().length === 1 && server.mp.getPeers().length === 1, 'a to join');
    expect(events.sort()).toEqual(['a:connected_to_server', `server+${a.mp.getUniqueId()}`]);
    expect(a.mp.getPeers()).toEqual([1]);
    expect(server.mp.isServer()).toBe(true);
    expect(a.mp.isServer()).toBe(false);

    const b = sceneClient(server.port);
    const aSaw: number[] = [];
    a.mp.on('peer_connected', (id) => aSaw.push(id));
    await pumpUntil([server, a, b], () => b.mp.getPeers().length === 2 && aSaw.length === 1, 'b to join and be announced');
    expect(aSaw).toEqual([b.mp.getUniqueId()]);
    expect(new Set(b.mp.getPeers())).toEqual(new Set([1, a.mp.getUniqueId()]));

    const aLost: number[] = [];
    a.mp.on('peer_disconnected', (id) => aLost.push(id));
    const bId = b.mp.getUniqueId();
    b.peer.close();
    await pumpUntil([server, a], () => aLost.length === 1, 'a to hear that b left');
    expect(aLost).toEqual([bId]);
    expect(server.mp.getPeers()).toEqual([a.mp.getUniqueId()]);
  });

  it('sends ADD_PEER both ways as exact 6-byte reliable packets on channel 0', async () => {
    const server = sceneServer();
    const x = new RawClient(server.port);
    await pumpUntil([server, x], () => server.mp.getPeers().length === 1, 'x to join');
    const y = new RawClient(server.port);
    await pumpUntil([server, x, y], () => x.got.length === 1 && y.got.length === 1, 'ADD_PEERs');
    expect(x.got[0]).toMatchObject({ from: 1, channel: 0, mode: RELIABLE });
    expect(x.takeHex()).toEqual(['0701' + le32(y.id)]);
    expect(y.takeHex()).toEqual(['0701' + le32(x.id)]);
    const yId = y.id;
    y.peer.close();
    await pumpUntil([server, x], () => x.got.length === 1, 'DEL_PEER');
    expect(x.takeHex()).toEqual(['0702' + le32(yId)]);
  });

  it('emits server_disconnected on the client when the server closes, and connection_failed when it never answers', async () => {
    const server = sceneServer();
    const a = sceneClient(server.port);
    // Both ends: a server only says goodbye to peers whose connection it has completed.
    await pumpUntil([server, a], () => a.mp.getPeers().length === 1 && server.mp.getPeers().length === 1, 'a to join');
    let disconnected = 0;
    a.mp.on('server_disconnected', () => disconnected++);
    server.peer.close();
    await pumpUntil([a], () => disconnected === 1, 'server_disconnected');
    expect(a.mp.getPeers()).toEqual([]);

    // A port nobody listens on: ENet gives up after its connect timeout.
    const lonely = sceneClient(1);
    let failed = 0;
    lonely.mp.on('connection_failed', () => failed++);
    lonely.peer.getPeer(1)?.setTimeout(32, 200, 500);
    await pumpUntil([lonely], () => failed === 1, 'connection_failed', 10000);
  });

  it('refuses a disconnected peer as multiplayerPeer, with an error and no change', () => {
    const mp = new SceneMultiplayer();
    const peer = new ENetMultiplayerPeer();
    errors.reportsError(() => (mp.multiplayerPeer = peer));
    expect(mp.multiplayerPeer).toBeNull();
    expect(() => new SceneMultiplayer({ autopoll: true } as never)).toThrow(/unknown option "autopoll"/);
  });
});

describe('send_bytes and the relay', () => {
  it('delivers send_bytes server→client, client→server and client→client with sender ids', async () => {
    const server = sceneServer();
    const a = sceneClient(server.port);
    const b = sceneClient(server.port);
    await pumpUntil([server, a, b], () => a.mp.getPeers().length === 2 && b.mp.getPeers().length === 2, 'everyone to meet');
    const got: string[] = [];
    for (const [name, end] of [['server', server], ['a', a], ['b', b]] as const) {
      end.mp.on('peer_packet', (id, data) => got.push(`${name}<${id === a.mp.getUniqueId() ? 'a' : id === b.mp.getUniqueId() ? 'b' : id}:${data.toString('hex')}`));
    }
    expect(server.mp.sendBytes(Buffer.from([1]), a.mp.getUniqueId())).toBe(GodotError.OK);
    expect(a.mp.sendBytes(Buffer.from([2]), 1)).toBe(GodotError.OK);
    expect(a.mp.sendBytes(Buffer.from([3]), b.mp.getUniqueId())).toBe(GodotError.OK);
    await pumpUntil([server, a, b], () => got.length === 3, 'three packets');
    expect(got.sort()).toEqual(['a<1:01', 'b<a:03', 'server<a:02']);

    got.length = 0;
    expect(b.mp.sendBytes(Buffer.from([4]))).toBe(GodotError.OK); // everyone: server processes it too
    expect(b.mp.sendBytes(Buffer.from([5]), -a.mp.getUniqueId())).toBe(GodotError.OK); // all but a
    expect(b.mp.sendBytes(Buffer.from([6]), -1)).toBe(GodotError.OK); // all but the server
    await pumpUntil([server, a, b], () => got.length === 4, 'broadcasts');
    await pumpFor([server, a, b], 50);
    expect(got.sort()).toEqual(['a<b:04', 'a<b:06', 'server<b:04', 'server<b:05']);
  });

  it('puts the RELAY on the wire as Godot does, and forwards it with the mode and channel it arrived with', async () => {
    const server = sceneServer();
    const x = new RawClient(server.port);
    const y = new RawClient(server.port);
    await pumpUntil([server, x, y], () => x.got.length === 1 && y.got.length === 1, 'ADD_PEERs');
    x.takeHex();
    y.takeHex();
    const serverGot: string[] = [];
    server.mp.on('peer_packet', (id, data) => serverGot.push(`${id}:${data.toString('hex')}`));
    // x → y, unreliable on channel 2: y sees the source id instead of the destination.
    x.send(hex('0703' + le32(y.id) + '03dead'), UNRELIABLE, 2);
    // x → everyone (0): y gets it and the server processes it as coming from x.
    x.send(hex('0703' + le32(0) + '03beef'));
    await pumpUntil([server, x, y], () => y.got.length === 2 && serverGot.length === 1, 'relays');
    expect(y.got[0]).toMatchObject({ from: 1, channel: 2, mode: UNRELIABLE });
    expect(y.takeHex()).toEqual(['0703' + le32(x.id) + '03dead', '0703' + le32(x.id) + '03beef']);
    expect(serverGot).toEqual([`${x.id}:beef`]);
    expect(x.got).toEqual([]);
  });
});

describe('authentication', () => {
  it('keeps peers pending until both sides complete, then admits them', async () => {
    const serverLog: string[] = [];
    const server = sceneServer((mp) => {
      mp.authCallback = (id, data) => {
        serverLog.push(`auth ${data.toString()}`);
        if (data.toString() === 'secret') {
          mp.sendAuth(id, Buffer.from('welcome'));
          mp.completeAuth(id);
        }
      };
    });
    const clientLog: string[] = [];
    const a = sceneClient(server.port, (mp) => {
      mp.authCallback = (id, data) => {
        clientLog.push(`auth ${id} ${data.toString()}`);
        mp.completeAuth(id);
      };
    });
    a.mp.on('peer_authenticating', (id) => {
      clientLog.push(`authenticating ${id}`);
      a.mp.sendAuth(id, Buffer.from('secret'));
    });
    server.mp.on('peer_authenticating', (id) => serverLog.push(`authenticating ${id === a.mp.getUniqueId()}`));
    a.mp.on('connected_to_server', () => clientLog.push('connected_to_server'));
    server.mp.on('peer_connected', () => serverLog.push('peer_connected'));
    await pumpUntil([server, a], () => server.mp.getPeers().length === 1 && a.mp.getPeers().length === 1, 'admission');
    expect(serverLog).toEqual(['authenticating true', 'auth secret', 'peer_connected']);
    expect(clientLog).toEqual(['authenticating 1', 'auth 1 welcome', 'connected_to_server']);
    expect(server.mp.getAuthenticatingPeers()).toEqual([]);
  });

  it('drops everything but AUTH from a pending peer, and times pending peers out', async () => {
    const server = sceneServer((mp) => {
      mp.authCallback = () => undefined;
      mp.authTimeout = 0.3;
    });
    const x = new RawClient(server.port);
    const failed: number[] = [];
    const packets: number[] = [];
    server.mp.on('peer_authentication_failed', (id) => failed.push(id));
    server.mp.on('peer_packet', (id) => packets.push(id));
    await pumpUntil([server, x], () => server.mp.getAuthenticatingPeers().length === 1, 'pending peer');
    const xId = x.id;
    x.send([0x03, 0x01]); // RAW before auth
    await pumpUntil([server, x], () => server.mp.getCounters().notAuthenticated === 1, 'the RAW to be dropped');
    expect(packets).toEqual([]);
    expect(errors.take().some((m) => /before its authentication completed/.test(m))).toBe(true);
    await pumpUntil([server, x], () => failed.length === 1, 'the auth timeout', 3000);
    expect(failed).toEqual([xId]);
    expect(server.mp.getPeers()).toEqual([]);
    await pumpUntil([server, x], () => x.peer.getConnectionStatus() === MultiplayerPeer.CONNECTION_DISCONNECTED, 'x to be disconnected');
  });

  it('sends AUTH data and the completion marker with Godot bytes, and refuses misuse with Godot codes', async () => {
    const server = sceneServer((mp) => (mp.authCallback = () => undefined));
    const x = new RawClient(server.port);
    await pumpUntil([server, x], () => server.mp.getAuthenticatingPeers().length === 1, 'pending peer');
    expect(server.mp.sendAuth(x.id, Buffer.from('hi'))).toBe(GodotError.OK);
    expect(errors.reportsError(() => server.mp.sendAuth(x.id, Buffer.alloc(0)))).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(errors.reportsError(() => server.mp.sendAuth(12345, Buffer.from('x')))).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(server.mp.completeAuth(x.id)).toBe(GodotError.OK);
    expect(errors.reportsError(() => server.mp.completeAuth(x.id))).toBe(GodotError.ERR_FILE_CANT_WRITE);
    expect(errors.reportsError(() => server.mp.sendAuth(x.id, Buffer.from('late')))).toBe(GodotError.ERR_FILE_CANT_WRITE);
    await pumpUntil([server, x], () => x.got.length === 2, 'AUTH packets');
    expect(x.takeHex()).toEqual(['07006869', '0700']);
    const admitted: number[] = [];
    server.mp.on('peer_connected', (id) => admitted.push(id));
    x.send([0x07, 0x00]);
    await pumpUntil([server, x], () => admitted.length === 1, 'admission');
    // A late marker is ignored; AUTH data after admission is dropped.
    x.send([0x07, 0x00]);
    x.send([0x07, 0x00, 0x01]);
    await pumpUntil([server, x], () => server.mp.getCounters().notAuthenticated === 1, 'the late AUTH data to be dropped');
  });
});

describe('RPCs', () => {
  async function serverAndClient(): Promise<{ server: ReturnType<typeof sceneServer>; a: ReturnType<typeof sceneClient>; sGame: NetworkNode; aGame: NetworkNode }> {
    const server = sceneServer();
    const a = sceneClient(server.port);
    const sGame = server.mp.registerNode('Game', { ...GAME_RPCS, echo: { rpcMode: 'any_peer', args: ['int', 'float', 'String'] }, untyped: '@rpc("any_peer", "call_local")' });
    const aGame = a.mp.registerNode('Game', { ...GAME_RPCS, echo: { rpcMode: 'any_peer', args: ['int', 'float', 'String'] }, untyped: '@rpc("any_peer", "call_local")' });
    await pumpUntil([server, a], () => a.mp.getPeers().length === 1 && server.mp.getPeers().length === 1, 'a to join');
    return { server, a, sGame, aGame };
  }

  it('calls methods both ways with the caller as remote sender, before and after path confirmation', async () => {
    const { server, a, sGame, aGame } = await serverAndClient();
    const serverCalls: string[] = [];
    sGame.on('hello', (n, s) => serverCalls.push(`${n} ${s} from ${server.mp.getRemoteSenderId() === a.mp.getUniqueId()}`));
    const clientMoves: unknown[] = [];
    aGame.on('move', (v) => clientMoves.push(v));
    expect(aGame.rpcId(1, 'hello', 42, 'x')).toBe(GodotError.OK);
    expect(aGame.rpcId(1, 'hello', 43, 'y')).toBe(GodotError.OK);
    expect(sGame.rpc('move', new Vector2(3, 4))).toBe(GodotError.OK);
    await pumpUntil([server, a], () => serverCalls.length === 2 && clientMoves.length === 1, 'the calls');
    expect(serverCalls).toEqual(['42 x from true', '43 y from true']);
    expect(clientMoves).toEqual([new Vector2(3, 4)]);
    expect(server.mp.getRemoteSenderId()).toBe(0);
    // After confirmation the short form is used; the calls keep arriving.
    await pumpFor([server, a], 30);
    expect(aGame.rpcId(1, 'hello', 44, 'z')).toBe(GodotError.OK);
    await pumpUntil([server, a], () => serverCalls.length === 3, 'the confirmed call');
  });

  it('refuses an authority call from a peer that is not the authority, and accepts it once it is', async () => {
    const { server, a, sGame, aGame } = await serverAndClient();
    const moves: unknown[] = [];
    sGame.on('move', (v) => moves.push(v));
    expect(aGame.rpcId(1, 'move', new Vector2(1, 1))).toBe(GodotError.OK);
    await pumpUntil([server, a], () => server.mp.getCounters().rpcDenied === 1, 'the denial');
    expect(errors.take().some((m) => /RPC 'move' is not allowed on node Game from: \d+\. Mode is "authority", authority is 1\./.test(m))).toBe(true);
    sGame.setMultiplayerAuthority(a.mp.getUniqueId());
    aGame.rpcId(1, 'move', new Vector2(2, 2));
    await pumpUntil([server, a], () => moves.length === 1, 'the allowed call');
    expect(moves).toEqual([new Vector2(2, 2)]);
  });

  it('types arguments as declared: int and float leave as INT and FLOAT, and arrive as numbers', async () => {
    const { server, a, sGame, aGame } = await serverAndClient();
    const got: unknown[][] = [];
    sGame.on('echo', (...args) => got.push(args));
    aGame.rpcId(1, 'echo', 7, 2, 'two');
    await pumpUntil([server, a], () => got.length === 1, 'echo');
    expect(got[0]).toEqual([7, 2, 'two']);
    expect(() => aGame.rpcId(1, 'echo', 1.5, 2, 'x')).toThrow(/argument 1 must be a GDScript int, got FLOAT/);
    expect(() => aGame.rpcId(1, 'echo', 1)).toThrow(/takes 3 arguments, got 1/);
  });

  it('keeps an integral float a float through an untyped parameter (2.0 comes back as FLOAT, not INT)', async () => {
    const { server, a, sGame, aGame } = await serverAndClient();
    const atServer: unknown[] = [];
    sGame.on('untyped', (v) => {
      atServer.push(v);
      sGame.rpcId(server.mp.getRemoteSenderId(), 'untyped', v);
    });
    const atClient: unknown[] = [];
    aGame.on('untyped', (v) => atClient.push(v));
    aGame.rpcId(1, 'untyped', float(2));
    await pumpUntil([server, a], () => atClient.length === 1, 'the round trip');
    expect(String(atServer[0])).toBe('2');
    expect(atClient[0]).toBeInstanceOf(GodotFloat);
    expect(Number(atClient[0]) / 4).toBe(0.5);
  });

  it('runs call_local methods here too, with our own id as remote sender', async () => {
    const { server, a, sGame, aGame } = await serverAndClient();
    const local: number[] = [];
    sGame.on('untyped', () => local.push(server.mp.getRemoteSenderId()));
    const remote: number[] = [];
    aGame.on('untyped', () => remote.push(a.mp.getRemoteSenderId()));
    expect(sGame.rpc('untyped', 1)).toBe(GodotError.OK);
    expect(local).toEqual([1]);
    await pumpUntil([server, a], () => remote.length === 1, 'the remote call');
    expect(remote).toEqual([1]);
    expect(errors.reportsError(() => sGame.rpcId(1, 'hello', 1, 'x'))).toBe(GodotError.ERR_INVALID_PARAMETER); // not call_local
    expect(errors.reportsError(() => sGame.rpc('nope'))).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(errors.reportsError(() => sGame.rpcId(999, 'hello', 1, 'x'))).toBe(GodotError.ERR_INVALID_PARAMETER);
  });

  it('puts Godot 4.6 bytes on the wire: SIMPLIFY_PATH, the inline-path call, then the short form', async () => {
    const server = sceneServer();
    const game = server.mp.registerNode('Game', GAME_RPCS);
    const x = new RawClient(server.port);
    await pumpUntil([server, x], () => server.mp.getPeers().length === 1, 'x to join');
    expect(game.rpcTable.checksum).toBe(GAME_MD5);
    expect(game.rpcId(x.id, 'hello', 42, 'x')).toBe(GodotError.OK);
    expect(game.rpcId(x.id, 'move', new Vector2(3, 4))).toBe(GodotError.OK);
    expect(game.rpcId(x.id, 'ping')).toBe(GodotError.OK);
    await pumpUntil([server, x], () => x.got.length === 4, 'four packets');
    const byChannel = x.got.map((p) => `${p.channel}/${p.mode}`);
    expect(byChannel).toEqual(['0/2', '0/2', '1/0', '0/2']);
    expect(x.takeHex()).toEqual([
      '01' + Buffer.from(GAME_MD5 + '\0').toString('hex') + '01000000' + Buffer.from('Game\0').toString('hex'),
      '20' + '15000080' + '00' + '02' + '022a' + '04000000' + '01000000' + '78000000' + '47616d6500',
      '20' + '13000080' + '01' + '01' + '05000000' + '00004040' + '00008040' + '47616d6500',
      'a0' + '06000080' + '02' + '47616d6500', // no arguments: bit 7 set, as Godot does
    ]);
    x.send(hex('020101000000')); // CONFIRM_PATH
    await pumpFor([server, x], 30);
    game.rpcId(x.id, 'ping');
    game.rpcId(x.id, 'hello', [1, float(2.5)], new Map([['k', 'v']]));
    game.rpcId(x.id, 'hello', Buffer.from([0xaa, 0xbb]));
    await pumpUntil([server, x], () => x.got.length === 3, 'short-form packets');
    expect(x.takeHex()).toEqual([
      '800102',
      '00010002' + plain([1, float(2.5)]) + plain(new Map([['k', 'v']])),
      '800100aabb',
    ]);
  });

  it('answers SIMPLIFY_PATH with CONFIRM_PATH, flags a wrong checksum, and runs calls by cache id and by inline path', async () => {
    const server = sceneServer();
    const game = server.mp.registerNode('Main/Game', GAME_RPCS);
    const calls: string[] = [];
    game.on('hello', (n, s) => calls.push(`${n}${s}`));
    game.on('ping', () => calls.push('ping'));
    const x = new RawClient(server.port);
    await pumpUntil([server, x], () => server.mp.getPeers().length === 1, 'x to join');
    const path = Buffer.from('Main/Game\0').toString('hex');
    x.send(hex('01' + Buffer.from(GAME_MD5 + '\0').toString('hex') + '07000000' + path));
    x.send(hex('01' + Buffer.from('0'.repeat(32) + '\0').toString('hex') + '08000000' + path));
    await pumpUntil([server, x], () => x.got.length === 2, 'two confirmations');
    expect(x.takeHex()).toEqual(['020107000000', '020008000000']);
    expect(errors.take().some((m) => /checksum failed for "Main\/Game"/.test(m))).toBe(true);
    x.send(hex('800702')); // ping by cache id 7
    x.send(hex('00 08 00 02 022a 04000000 01000000 78000000')); // hello(42, "x") by cache id 8
    x.send(hex('a0 06000080 02' + path)); // ping by inline path
    await pumpUntil([server, x], () => calls.length === 3, 'three calls');
    expect(calls).toEqual(['ping', '42x', 'ping']);
  });
});

describe('hostile input', () => {
  it('drops and counts malformed packets without throwing', async () => {
    const server = sceneServer();
    server.mp.registerNode('Game', GAME_RPCS).on('hello', () => undefined);
    const x = new RawClient(server.port);
    await pumpUntil([server, x], () => server.mp.getPeers().length === 1, 'x to join');
    const bad = [
      '07', // SYS too short
      '0709' + le32(0), // unknown SYS command
      '0701' + le32(5), // ADD_PEER from a client
      '0703' + le32(424242) + '0301', // relay to an unknown peer
      '0703' + le32(x.id) + '0301', // relay to itself
      '0703' + le32(0), // empty relay
      '0703' + le32(0) + '0703' + le32(0) + '0301', // SYS nested in a relay
      '03', // empty RAW
      '30 01 00', // RPC with node-id size 3
      '00', // RPC too short
      '00 09 00 00', // unknown cache id
      '20 ffffff80 00', // inline path offset past the end
      '01 00', // SIMPLIFY_PATH too short
      '01' + '00'.repeat(37) + '4e6f7065' + '00', // unknown path
      '02 01 01000000 00', // CONFIRM_PATH of the wrong size
      '02 01 09000000', // confirm of an id never offered
      '20 06000080 09' + Buffer.from('Game\0').toString('hex'), // unknown method id
      '20 08000080 00 05 02' + Buffer.from('Game\0').toString('hex'), // argc 5, one truncated arg
      '20 07000080 00 ff' + Buffer.from('Game\0').toString('hex'), // argc 255, no args
      '04 00', // SPAWN (no replication here)
    ];
    for (const b of bad) x.send(hex(b));
    await pumpFor([server, x], 100);
    const counters = server.mp.getCounters();
    const total = Object.values(counters).reduce((s, n) => s + n, 0);
    expect(total).toBeGreaterThanOrEqual(bad.length - 1); // the unrequested confirm of an unknown id is ignored silently
    expect(counters).toMatchObject({ malformed: expect.any(Number), badSysCommand: 2, relayToUnknownPeer: 1, badRelay: 1, unknownCacheId: 1, unknownPath: 1 });
    expect(server.mp.getPeers()).toEqual([x.id]);
  });
});

describe('autoPoll', () => {
  it('drives server and client from the event loop, without a loop of our own', async () => {
    const { ENetMultiplayerPeer: Peer } = await import('../src');
    const serverPeer = new Peer();
    serverPeer.setBindIp('127.0.0.1');
    expect(serverPeer.createServer(0)).toBe(GodotError.OK);
    const server = new SceneMultiplayer({ autoPoll: 5 });
    server.multiplayerPeer = serverPeer;
    const sGame = server.registerNode('Game', GAME_RPCS);
    const clientPeer = new Peer();
    expect(clientPeer.createClient('127.0.0.1', serverPeer.host?.getLocalPort() ?? 0)).toBe(GodotError.OK);
    const client = new SceneMultiplayer({ autoPoll: true });
    client.multiplayerPeer = clientPeer;
    const cGame = client.registerNode('Game', GAME_RPCS);
    try {
      const hello = new Promise<unknown[]>((resolve) => sGame.on('hello', (...args) => resolve(args)));
      await new Promise<void>((resolve) => client.once('connected_to_server', () => resolve()));
      expect(cGame.rpcId(1, 'hello', 5, 'auto')).toBe(GodotError.OK);
      expect(await hello).toEqual([5, 'auto']);
      // Detaching the peer stops the polling: nothing runs afterwards.
      client.multiplayerPeer = null;
      server.multiplayerPeer = null;
      const poll = jest.spyOn(server, 'poll');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(poll).not.toHaveBeenCalled();
    } finally {
      clientPeer.close();
      serverPeer.close();
    }
  });
});

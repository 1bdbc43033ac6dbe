/**
 * The Node end of the bridge peers (res://oracle/bridge_peer.gd): one ENetMultiplayerPeer of ours per
 * bridge, created when Godot calls create_client / create_server, relaying packets, signals and
 * status both ways and logging every packet that crosses.
 */
import { ENetMultiplayerPeer, GodotError, MultiplayerPacket, TransferMode } from '../../src';

/** A message from the Godot side of a bridge (as oracle.gd sends it). */
export type BridgeRequest =
  | { t: 'create_client'; b: number; address: string; port: number; channels: number; id: number }
  | { t: 'create_server'; b: number; port: number; max_clients: number }
  | { t: 'put'; b: number; target: number; channel: number; mode: TransferMode; hex: string }
  | { t: 'close'; b: number }
  | { t: 'disconnect_peer'; b: number; peer: number; force: boolean }
  | { t: 'refuse'; b: number; enable: boolean };

/** A packet that crossed a bridge: a test vector from Godot 4.6's own output (or input). */
export interface BridgePacket {
  bridge: number;
  /** 'sent' by Godot (its SceneMultiplayer called put_packet), or 'received' by Godot. */
  direction: 'sent' | 'received';
  /** For 'sent', the target peer (0 = everyone, -n = everyone but n); for 'received', the sender. */
  peer: number;
  /** Transfer channel, in Godot's numbering (0 = the mode's default channel). */
  channel: number;
  mode: TransferMode;
  data: Buffer;
}

/** One bridge peer, as the test sees it. */
export interface Bridge {
  id: number;
  kind: 'client' | 'server';
  /** Our ENetMultiplayerPeer carrying the bridge's packets (autoPoll). */
  peer: ENetMultiplayerPeer;
  /** The UDP port a server bridge listens on (on 127.0.0.1); 0 for a client. */
  port: number;
  /** The unique id Godot's side uses (1 for a server). */
  uniqueId: number;
}

/** Our client, with the unique id Godot's bridge already chose (generate_unique_id() in Godot). */
class FixedIdPeer extends ENetMultiplayerPeer {
  constructor(private readonly id: number) {
    super({ autoPoll: true });
  }
  override generateUniqueId(): number {
    return this.id;
  }
}

/** Bridge bookkeeping; `post` queues a message for the Godot side, `fail` records a harness error. */
export class Bridges {
  readonly all = new Map<number, Bridge>();
  readonly packets: BridgePacket[] = [];

  constructor(
    private readonly post: (msg: object) => void,
    private readonly fail: (message: string) => void,
    private readonly changed: () => void,
  ) {}

  handle(msg: BridgeRequest): void {
    if (msg.t === 'create_client' || msg.t === 'create_server') {
      this.#create(msg);
      return;
    }
    const bridge = this.all.get(msg.b);
    if (bridge === undefined) return this.fail(`oracle: message for unknown bridge ${msg.b}`);
    const { peer } = bridge;
    switch (msg.t) {
      case 'put': {
        const data = Buffer.from(msg.hex, 'hex');
        this.#log({ bridge: msg.b, direction: 'sent', peer: msg.target, channel: msg.channel, mode: msg.mode, data });
        peer.setTargetPeer(msg.target);
        peer.transferMode = msg.mode;
        peer.transferChannel = msg.channel;
        const error = peer.putPacket(data);
        if (error !== GodotError.OK) this.fail(`oracle: bridge ${msg.b} could not send a packet (${GodotError[error]})`);
        break;
      }
      case 'close':
        peer.close();
        break;
      case 'disconnect_peer':
        peer.disconnectPeer(msg.peer, msg.force);
        break;
      case 'refuse':
        peer.setRefuseNewConnections(msg.enable);
        break;
    }
  }

  #create(msg: Extract<BridgeRequest, { t: 'create_client' | 'create_server' }>): void {
    const b = msg.b;
    const client = msg.t === 'create_client';
    const peer = client ? new FixedIdPeer(msg.id) : new ENetMultiplayerPeer({ autoPoll: true });
    peer.on('peer_connected', (id) => this.post({ t: 'peer_connected', b, id }));
    peer.on('peer_disconnected', (id) => this.post({ t: 'peer_disconnected', b, id }));
    peer.on('closed', () => this.post({ t: 'closed', b }));
    peer.on('packet', (p: MultiplayerPacket) => {
      this.#log({ bridge: b, direction: 'received', peer: p.from, channel: p.channel, mode: p.mode, data: p.data });
      this.post({ t: 'packet', b, from: p.from, channel: p.channel, mode: p.mode, hex: p.data.toString('hex') });
    });
    let error: GodotError;
    if (client) {
      error = peer.createClient(msg.address, msg.port, msg.channels);
    } else {
      peer.setBindIp('127.0.0.1');
      error = peer.createServer(msg.port, msg.max_clients);
    }
    if (error !== GodotError.OK) {
      this.fail(`oracle: bridge ${b} ${msg.t} failed (${GodotError[error]})`);
      this.post({ t: 'closed', b });
      return;
    }
    const port = client ? 0 : peer.host?.getLocalPort() ?? 0;
    if (!client) this.post({ t: 'server_port', b, port });
    this.all.set(b, { id: b, kind: client ? 'client' : 'server', peer, port, uniqueId: client ? msg.id : 1 });
    this.changed();
  }

  #log(packet: BridgePacket): void {
    this.packets.push(packet);
    this.changed();
  }

  closeAll(): void {
    for (const { peer } of this.all.values()) {
      peer.removeAllListeners();
      peer.close();
    }
  }
}

/**
 * SceneMultiplayer ends on real UDP loopback: servers and clients of ours, and "raw" clients (an
 * ENetMultiplayerPeer without SceneMultiplayer) that see and send exact SceneMultiplayer bytes.
 */
import { afterEach } from '@jest/globals';
import { ENetMultiplayerPeer, GodotError, MultiplayerPeer, SceneMultiplayer, TransferMode } from '../../src';
import { DEADLINE_MS, sleep } from './loopback';

const open: { close(): void }[] = [];

/** Closes every peer a test opened through these helpers. */
export function closePeersAfterEach(): void {
  afterEach(() => {
    for (const peer of open.splice(0)) peer.close();
  });
}

export interface SceneEnd {
  peer: ENetMultiplayerPeer;
  mp: SceneMultiplayer;
}

export function sceneServer(configure?: (mp: SceneMultiplayer) => void): SceneEnd & { port: number } {
  const peer = new ENetMultiplayerPeer();
  peer.setBindIp('127.0.0.1');
  if (peer.createServer(0, 32) !== GodotError.OK) throw new Error('createServer failed');
  open.push(peer);
  const mp = new SceneMultiplayer();
  configure?.(mp);
  mp.multiplayerPeer = peer;
  return { peer, mp, port: peer.host?.getLocalPort() ?? 0 };
}

export function sceneClient(port: number, configure?: (mp: SceneMultiplayer) => void): SceneEnd {
  const peer = new ENetMultiplayerPeer();
  if (peer.createClient('127.0.0.1', port) !== GodotError.OK) throw new Error('createClient failed');
  open.push(peer);
  const mp = new SceneMultiplayer();
  configure?.(mp);
  mp.multiplayerPeer = peer;
  return { peer, mp };
}

export interface RawPacket {
  from: number;
  channel: number;
  mode: TransferMode;
  data: Buffer;
}

/** A client that speaks SceneMultiplayer by hand: every packet it gets is recorded as bytes. */
export class RawClient {
  readonly peer = new ENetMultiplayerPeer();
  readonly got: RawPacket[] = [];

  constructor(port: number) {
    if (this.peer.createClient('127.0.0.1', port) !== GodotError.OK) throw new Error('createClient failed');
    open.push(this.peer);
  }

  get id(): number {
    return this.peer.getUniqueId();
  }

  poll(): void {
    if (this.peer.getConnectionStatus() === MultiplayerPeer.CONNECTION_DISCONNECTED) return;
    this.peer.poll();
    while (this.peer.getAvailablePacketCount() > 0) {
      const from = this.peer.getPacketPeer();
      const channel = this.peer.getPacketChannel();
      const mode = this.peer.getPacketMode();
      this.got.push({ from, channel, mode, data: this.peer.getPacket() });
    }
  }

  send(bytes: number[] | Uint8Array, mode = TransferMode.TRANSFER_MODE_RELIABLE, channel = 0): void {
    this.peer.transferMode = mode;
    this.peer.transferChannel = channel;
    this.peer.setTargetPeer(1);
    if (this.peer.putPacket(Uint8Array.from(bytes)) !== GodotError.OK) throw new Error('putPacket failed');
  }

  /** Packets received so far, as hex strings, and forgets them. */
  takeHex(): string[] {
    return this.got.splice(0).map((p) => p.data.toString('hex'));
  }
}

type Pollable = { poll(): unknown } | SceneEnd;

/** Polls every end until `condition` holds, failing with `what` after the deadline. */
export async function pumpUntil(ends: Pollable[], condition: () => boolean, what: string, deadlineMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    for (const end of ends) ('mp' in end ? end.mp : end).poll();
    if (condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Polls every end for `ms`. */
export async function pumpFor(ends: Pollable[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const end of ends) ('mp' in end ? end.mp : end).poll();
    await sleep(1);
  }
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

export function le32(n: number): string {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b.toString('hex');
}

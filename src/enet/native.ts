// The one place that knows the addon: its loader and the exact shape of what it exports.
// Everything else imports `native` from here and never sees `any`.
import path from 'path';

/** One ENetHost (binding/host.h). Peers are addressed by (slot, generation). */
export interface NativeHost {
  create(bindAddress: Uint8Array | null, port: number, maxPeers: number, maxChannels: number,
    inBandwidth: number, outBandwidth: number): boolean;
  destroy(): boolean;
  connect(address: Uint8Array, port: number, channels: number, data: number): number;
  /** Runs socket I/O (waiting up to timeoutMs) and drains ready events; -1 if there is no host. */
  service(timeoutMs: number): number;
  /** Drains ready events without socket I/O. */
  checkEvents(): number;
  flush(): void;
  bandwidthLimit(inBandwidth: number, outBandwidth: number): void;
  channelLimit(limit: number): void;
  broadcast(channel: number, data: Uint8Array, flags: number): boolean;
  compress(mode: number): boolean;
  popStatistic(which: number): number;
  maxChannels(): number;
  localPort(): number;
  socketSend(address: Uint8Array, port: number, data: Uint8Array): boolean;
  generation(slot: number): number;
  counters(): NativeCounters | null;
  /** Calls `wake` from the event loop when the socket is readable and every intervalMs. */
  watch(wake: () => void, intervalMs: number): boolean;
  unwatch(): void;
  /** Whether a watched host keeps the process alive. */
  keepAlive(keep: boolean): void;
  /** Upgrades the host's socket to a DTLS server (DER key, DER chain own certificate first); null or why not. */
  dtlsServerSetup(key: Uint8Array, chain: Uint8Array[]): string | null;
  /** Upgrades the host's socket to a DTLS client; null or why not. */
  dtlsClientSetup(serverName: string | null, verifyName: string | null, verifyNameIsIp: boolean, verifyPeer: boolean,
    trusted: Uint8Array[]): string | null;
  /** A DTLS server starts no new handshake while refusing. */
  dtlsRefuse(refuse: boolean): void;
  /** Why the last EVENT_ERROR record (a failed DTLS client handshake or session) was written. */
  dtlsError(): string;

  peerSend(slot: number, gen: number, channel: number, data: Uint8Array, flags: number): number;
  /** Queues the first `count` staged sends into ENet; returns how many it refused (see ENetConnection.stage). */
  commitSends(count: number): number;
  peersSend(targets: Int32Array, channel: number, data: Uint8Array, flags: number): number;
  peerDisconnect(slot: number, gen: number, data: number, how: 0 | 1 | 2): number;
  peerReset(slot: number, gen: number): number;
  peerPing(slot: number, gen: number): number;
  peerPingInterval(slot: number, gen: number, intervalMs: number): number;
  peerTimeout(slot: number, gen: number, limit: number, minimum: number, maximum: number): number;
  peerThrottleConfigure(slot: number, gen: number, interval: number, acceleration: number, deceleration: number): number;
  peerStatistic(slot: number, gen: number, which: number): number;
  peerState(slot: number, gen: number): number;
  peerAddress(slot: number, gen: number): string;
  peerPort(slot: number, gen: number): number;
  peerChannels(slot: number, gen: number): number;
  /** Bytes of the peer's packets ENet still holds: reliable until acknowledged, unreliable until sent. */
  peerQueuedBytes(slot: number, gen: number): number;
}

export interface NativeCounters {
  /** Negative enet_host_service results, treated as transient instead of failing the service call. */
  serviceErrors: number;
  /**
   * Sends that send() answered OK from JS and ENet then refused: 0 unless the staging rule broke
   * (ENetConnection stages a send only for a connection ENet reported CONNECTED).
   */
  stagedSendsRefused: number;
  /** Datagrams longer than ENet's 4096-byte receive buffer, skipped. */
  oversizedDropped: number;
  /** Zero-length datagrams, skipped (ENet would take one for "nothing more to read"). */
  emptyDropped: number;
  /** Transient socket receive errors (ICMP reports and the like), skipped. */
  receiveErrors: number;
  /** Datagrams the kernel refused to send (no route, unreachable), dropped like a loss. */
  sendErrors: number;
  /** System calls retried after EINTR. */
  interruptedCalls: number;
  /** True when our socket layer (not the header's) handles this host's socket. */
  socketLayer: boolean;
  /** 6 for a dual-stack IPv6 socket, 4 for the IPv4 fallback. */
  socketFamily: 4 | 6;
  /** What the DTLS layer did (deps/enet/dtls_layer.h); null for a host without DTLS. */
  dtls: DtlsCounters | null;
}

export interface DtlsCounters {
  /** DTLS sessions now (server: addresses past their cookie; client: 0 or 1). */
  sessions: number;
  /** Of those, the ones still handshaking. */
  pendingHandshakes: number;
  handshakesCompleted: number;
  /** Rejected certificates, fatal alerts, handshakes given up. */
  handshakesFailed: number;
  /** Cookies (HelloVerifyRequests) a server sent. */
  helloVerifyRequests: number;
  /** ClientHellos a server dropped: refusing new connections, no room for another session (the peer
   * count), or more waiting for their turn than it keeps (the peer count, at least 256). */
  handshakesRefused: number;
  /** ClientHellos a server kept for a later receive round: at most 16 handshakes start per round. */
  handshakesDeferred: number;
  /** Server sessions no ENet peer claimed within 8 s, dropped (as Godot). */
  sessionsExpired: number;
  /** Sessions the remote ended (close_notify or a fatal alert). */
  sessionsClosed: number;
  /** Datagrams that are no DTLS for this host (garbage, plain ENet, stray records, malformed
   * ClientHellos; for a client, anything not from its server), dropped. */
  invalidDropped: number;
  /** ENet datagrams not carried: sent before the handshake was done or to an address without a session,
   * or received larger than ENet's buffer. */
  recordsDropped: number;
}

export interface NativeBinding {
  Host: new (events: Int32Array, packets: Buffer[], sendRecords: Int32Array, sendBytes: Uint8Array, sendable: Int32Array) => NativeHost;
  constants: Record<string, number>;
  /** IP literal -> 16-byte ENet address (IPv4 as ::ffff:a.b.c.d), or null. */
  parseAddress(text: string): Buffer | null;
  /** Blocking name resolution (any family) -> 16-byte address, or null. */
  resolve(name: string): Buffer | null;
  formatAddress(address: Uint8Array): string;
  /** null when DTLS can run in this process (its Node exports OpenSSL 3), else why not. */
  dtlsUnavailable(): string | null;
}

// node-gyp-build finds build/Release (a local cmake-js build) first, then prebuilds/<platform>-<arch>.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require('node-gyp-build') as (dir: string) => unknown;

function loadBinding(): NativeBinding {
  const root = path.join(__dirname, '..', '..'); // package root, from src/enet or dist/enet
  try {
    return load(root) as NativeBinding;
  } catch (cause) {
    throw new Error(
      `godot-enet: no native addon for ${process.platform}-${process.arch} (Node ${process.version}): no prebuilt ` +
        `binary in the package fits, and none was built from source. Install CMake and a C/C++ compiler, then run ` +
        `"npm rebuild godot-enet" (see the README's Install section).`,
      { cause },
    );
  }
}

export const native: NativeBinding = loadBinding();

/** Size of one event record in a host's shared event buffer, and the codes the binding uses. */
export const EVENT_FIELDS = native.constants.EVENT_FIELDS;
export const EVENT_DISCONNECT_TIMEOUT = native.constants.EVENT_DISCONNECT_TIMEOUT;
export const EVENT_ERROR_RECORD = native.constants.EVENT_ERROR;
export const STALE_PEER = native.constants.STALE_PEER;
export const BAD_CHANNEL = native.constants.BAD_CHANNEL;
/** The longest packet ENet carries (every host's maximumPacketSize: 32 MiB); it refuses anything longer. */
export const ENET_MAX_PACKET_SIZE = native.constants.HOST_DEFAULT_MAXIMUM_PACKET_SIZE;

// godot-enet: Godot 4's ENet networking API for Node.js.
export { GodotError, GodotError as Error, setErrorReporter } from './errors';
export type { ErrorReporter } from './errors';
export { PacketPeer } from './PacketPeer';
export { ENetConnection, CompressionMode, EventType, HostStatistic } from './ENetConnection';
export type { ServiceResult, ConnectionCounters } from './ENetConnection';
export { ENetPacketPeer, PeerState, PeerStatistic } from './ENetPacketPeer';
export type { PeerTotals } from './ENetPacketPeer';
export * from './variant';

// godot-enet: Godot 4's ENet networking API for Node.js.
export { GodotError, GodotError as Error, setErrorReporter } from './errors';
export type { ErrorReporter } from './errors';
export { PacketPeer } from './PacketPeer';
export { ENetConnection, CompressionMode, EventType, HostStatistic } from './ENetConnection';
export type { ServiceResult, ConnectionCounters } from './ENetConnection';
export { ENetPacketPeer, PeerState, PeerStatistic } from './ENetPacketPeer';
export type { PeerTotals } from './ENetPacketPeer';
export { MultiplayerPeer, TransferMode, ConnectionStatus, TARGET_PEER_BROADCAST, TARGET_PEER_SERVER } from './MultiplayerPeer';
export type { MultiplayerPeerEvents } from './MultiplayerPeer';
export { ENetMultiplayerPeer } from './ENetMultiplayerPeer';
export type { ENetMultiplayerPeerOptions, MultiplayerPacket } from './ENetMultiplayerPeer';
export * from './variant';

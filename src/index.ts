// godot-enet: Godot 4's ENet networking API for Node.js. The only entry point; its rooms mirror Godot's
// own modules: core/ (errors, PacketPeer), variant/ (Godot's Variant and its binary format), enet/
// (modules/enet), multiplayer/ (MultiplayerPeer and modules/multiplayer), crypto/ (X509Certificate,
// CryptoKey, TLSOptions: what DTLS needs of core/crypto).
export { GodotError, GodotError as Error, setErrorReporter } from './core/errors';
export type { ErrorReporter } from './core/errors';
export { PacketPeer } from './core/PacketPeer';
export { ENetConnection, CompressionMode, EventType, HostStatistic } from './enet/ENetConnection';
export type { ServiceResult, ConnectionCounters } from './enet/ENetConnection';
export type { DtlsCounters } from './enet/native';
export { ENetPacketPeer, PeerState, PeerStatistic } from './enet/ENetPacketPeer';
export type { PeerTotals } from './enet/ENetPacketPeer';
export { MultiplayerPeer, TransferMode, ConnectionStatus, TARGET_PEER_BROADCAST, TARGET_PEER_SERVER } from './multiplayer/MultiplayerPeer';
export type { MultiplayerPeerEvents } from './multiplayer/MultiplayerPeer';
export { ENetMultiplayerPeer } from './enet/ENetMultiplayerPeer';
export type { ENetMultiplayerPeerOptions, MultiplayerPacket } from './enet/ENetMultiplayerPeer';
export * from './variant/marshalls';
export { SceneMultiplayer } from './multiplayer/SceneMultiplayer';
export type { SceneMultiplayerEvents, SceneMultiplayerOptions, AuthCallback, NodeOptions } from './multiplayer/SceneMultiplayer';
export { NetworkNode } from './multiplayer/NetworkNode';
export type { RpcHandler } from './multiplayer/NetworkNode';
export { MultiplayerSpawner } from './multiplayer/MultiplayerSpawner';
export type { CustomSpawn, SpawnFunction } from './multiplayer/MultiplayerSpawner';
export { MultiplayerSynchronizer, VisibilityUpdateMode } from './multiplayer/MultiplayerSynchronizer';
export type { VisibilityFilter } from './multiplayer/MultiplayerSynchronizer';
export { SceneReplicationConfig, ReplicationMode } from './multiplayer/SceneReplicationConfig';
export type { ReplicationProperty, PropertyOptions } from './multiplayer/SceneReplicationConfig';
export { RPCMode } from './multiplayer/rpc-config';
export type { RpcDeclaration, RpcMethod } from './multiplayer/rpc-config';
export { parseDeclaredType } from './variant/typed';
export type { DeclaredType } from './variant/typed';
export { readManifest } from './manifest/readManifest';
export { ManifestError } from './manifest/ManifestError';
export type * from './manifest/types';
export { X509Certificate } from './crypto/X509Certificate';
export { CryptoKey } from './crypto/CryptoKey';
export { TLSOptions } from './crypto/TLSOptions';

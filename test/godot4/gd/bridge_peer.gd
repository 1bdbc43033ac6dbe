class_name BridgePeer
extends MultiplayerPeerExtension
## A MultiplayerPeer whose packets are carried by an ENetMultiplayerPeer of ours in the Node test
## process (test/godot4/oracle.ts), over real UDP. Godot's SceneMultiplayer on top of it sees what it
## would see over Godot's own ENetMultiplayerPeer: the same ids, channels, modes, signals and status.
## Messages from Node wait in `inbox` and are applied in order in _poll(), as ENet events would be.

var bridge_id := 0
## The port the Node side's server listens on (create_server with port 0 picks a free one); 0 until known.
var server_port := 0
var inbox: Array = []

var _status := CONNECTION_DISCONNECTED
var _unique_id := 0
var _server := false
var _target := 0
var _mode := TRANSFER_MODE_RELIABLE
var _channel := 0
var _refusing := false
var _packets: Array = []  # [from, channel, mode, PackedByteArray], oldest first


## As ENetMultiplayerPeer.create_client: CONNECTING now, CONNECTED (with peer_connected(1)) once the
## Node-side client's ENet connection is up.
func create_client(address: String, port: int, channel_count := 0) -> Error:
	if _status != CONNECTION_DISCONNECTED:
		return ERR_ALREADY_IN_USE
	_reset(false, generate_unique_id(), CONNECTION_CONNECTING)
	bridge_id = Oracle.open_bridge(self, {"t": "create_client", "address": address, "port": port,
			"channels": channel_count, "id": _unique_id})
	return OK


## As ENetMultiplayerPeer.create_server: CONNECTED at once, id 1. Port 0 lets Node pick a free port
## (it arrives in `server_port`, and the test reads it from oracle.bridges).
func create_server(port: int, max_clients := 32) -> Error:
	if _status != CONNECTION_DISCONNECTED:
		return ERR_ALREADY_IN_USE
	_reset(true, 1, CONNECTION_CONNECTED)
	bridge_id = Oracle.open_bridge(self, {"t": "create_server", "port": port, "max_clients": max_clients})
	return OK


func _reset(server: bool, id: int, status: ConnectionStatus) -> void:
	_server = server
	_unique_id = id
	_status = status
	_refusing = false  # as ENetMultiplayerPeer, which accepts connections again on each create_*
	_packets.clear()
	inbox.clear()
	server_port = 0


func _poll() -> void:
	Oracle.pump()
	var messages := inbox
	inbox = []
	for msg in messages:
		match msg.t:
			"packet":
				_packets.append([int(msg.from), int(msg.channel), int(msg.mode), msg.hex.hex_decode()])
			"peer_connected":
				if not _server and _status == CONNECTION_CONNECTING:
					_status = CONNECTION_CONNECTED
				peer_connected.emit(int(msg.id))
			"peer_disconnected":
				peer_disconnected.emit(int(msg.id))
			"closed":
				_status = CONNECTION_DISCONNECTED
				_packets.clear()
			"server_port":
				server_port = int(msg.port)


func _close() -> void:
	if _status == CONNECTION_DISCONNECTED:
		return
	Oracle.send({"t": "close", "b": bridge_id})
	_status = CONNECTION_DISCONNECTED
	_packets.clear()


func _disconnect_peer(peer: int, force: bool) -> void:
	Oracle.send({"t": "disconnect_peer", "b": bridge_id, "peer": peer, "force": force})
	if force and not _server:
		_status = CONNECTION_DISCONNECTED  # Godot's client closes at once on a forced disconnect
		_packets.clear()


func _put_packet_script(buffer: PackedByteArray) -> Error:
	if _status != CONNECTION_CONNECTED:
		return ERR_UNCONFIGURED
	Oracle.send({"t": "put", "b": bridge_id, "target": _target, "channel": _channel, "mode": _mode,
			"hex": buffer.hex_encode()})
	return OK


func _get_packet_script() -> PackedByteArray:
	return _packets.pop_front()[3] if _packets else PackedByteArray()


func _get_available_packet_count() -> int:
	return _packets.size()


func _get_packet_peer() -> int:
	return _packets[0][0] if _packets else 1


func _get_packet_channel() -> int:
	return _packets[0][1] if _packets else 0


func _get_packet_mode() -> TransferMode:
	return _packets[0][2] if _packets else TRANSFER_MODE_RELIABLE


func _get_max_packet_size() -> int:
	return 1 << 24


func _set_target_peer(peer: int) -> void:
	_target = peer


func _set_transfer_mode(mode: TransferMode) -> void:
	_mode = mode


func _get_transfer_mode() -> TransferMode:
	return _mode


func _set_transfer_channel(channel: int) -> void:
	_channel = channel


func _get_transfer_channel() -> int:
	return _channel


func _get_unique_id() -> int:
	return _unique_id


func _get_connection_status() -> ConnectionStatus:
	return _status


func _is_server() -> bool:
	return _server


func _is_server_relay_supported() -> bool:
	return _status != CONNECTION_DISCONNECTED  # as Godot's ENet peer in server or client mode


func _set_refuse_new_connections(enable: bool) -> void:
	_refusing = enable
	if _status != CONNECTION_DISCONNECTED:
		Oracle.send({"t": "refuse", "b": bridge_id, "enable": enable})


func _is_refusing_new_connections() -> bool:
	return _refusing

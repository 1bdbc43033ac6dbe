## How the game makes its MultiplayerPeer: plain ENet, exactly what any Godot 4 game joining a
## godot-enet server uses. (godot-enet's own tests run this project in a headless web build, which has
## no sockets, and swap this one file for a bridge to their ENet client.)
extends RefCounted


static func create_client(address: String, port: int) -> MultiplayerPeer:
	var peer := ENetMultiplayerPeer.new()
	var error := peer.create_client(address, port)
	if error != OK:
		push_error("create_client(%s, %d) failed: %s" % [address, port, error_string(error)])
		return null
	return peer

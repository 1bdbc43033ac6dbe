## Joins the godot-enet example server and plays a tiny shared world: everyone's square moves around
## (arrow keys, or on its own when idle), and there is a chat. It is plain Godot 4 multiplayer:
## - the player name goes to the server through SceneMultiplayer's authentication;
## - the server spawns a square for every player (a MultiplayerSpawner of player.tscn) and moves it:
##   each player's input reaches the server through a MultiplayerSynchronizer the player owns, and the
##   squares' positions and names reach everyone through the synchronizer the server owns;
## - chat goes to the server (an RPC), which sends each line to everyone.
extends Node2D

const Network = preload("res://network.gd")

var server_address := "127.0.0.1"
var server_port := 7777
var player_name := "player"
var _lines: PackedStringArray = []


func _ready() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--server="):
			var parts := arg.trim_prefix("--server=").split(":")
			server_address = parts[0]
			if parts.size() > 1:
				server_port = int(parts[1])
		elif arg.begins_with("--name="):
			player_name = arg.trim_prefix("--name=")
	var peer := Network.create_client(server_address, server_port)
	if peer == null:
		_log("could not start the client")
		return
	multiplayer.auth_callback = _on_auth
	multiplayer.peer_authenticating.connect(_on_peer_authenticating)
	multiplayer.connected_to_server.connect(_on_connected)
	multiplayer.connection_failed.connect(func(): _log("could not reach %s:%d" % [server_address, server_port]))
	multiplayer.server_disconnected.connect(func(): _log("the server closed the connection"))
	$PlayerSpawner.spawned.connect(func(player: Node): _log("%s is here" % player.player_name))
	$PlayerSpawner.despawned.connect(func(player: Node): _log("%s left" % player.player_name))
	multiplayer.multiplayer_peer = peer
	$HUD/Say.text_submitted.connect(_on_say)
	_log("connecting to %s:%d as %s" % [server_address, server_port, player_name])


# --- authentication: our name goes first; the server answers "welcome" (or drops us).

func _on_peer_authenticating(id: int) -> void:
	multiplayer.send_auth(id, player_name.to_utf8_buffer())


func _on_auth(id: int, data: PackedByteArray) -> void:
	_log("server: " + data.get_string_from_utf8())
	multiplayer.complete_auth(id)


func _on_connected() -> void:
	_log("connected as peer %d" % multiplayer.get_unique_id())


# --- chat. The server (Node) reads these declarations from this file.

## Client -> server: a chat line.
@rpc("any_peer")
func chat(_text: String) -> void:
	pass  # handled by the server


## Server -> clients: a chat line from someone.
@rpc("authority")
func chat_message(from: String, text: String) -> void:
	_log("%s: %s" % [from, text])


func _on_say(text: String) -> void:
	if text.strip_edges() != "":
		chat.rpc_id(1, text)
	$HUD/Say.clear()


func _log(line: String) -> void:
	print(line)
	_lines.append(line)
	if _lines.size() > 20:
		_lines = _lines.slice(_lines.size() - 20)
	$HUD/Log.text = "\n".join(_lines)

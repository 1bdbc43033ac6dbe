## Joins the godot-enet example server and plays a tiny shared world: everyone's square moves around
## (arrow keys, or on its own when idle), and there is a chat. It is plain Godot 4 multiplayer:
## - the player name goes to the server through SceneMultiplayer's authentication;
## - chat goes to the server (an RPC), which sends each line to everyone;
## - positions go to every peer with rpc(): Godot sends them to the server, which relays them to the
##   other clients — the Node server never needs to know what a position is.
extends Node2D

const Network = preload("res://network.gd")
const SPEED := 120.0
const MOVES_PER_SECOND := 10.0

var server_address := "127.0.0.1"
var server_port := 7777
var player_name := "player"
var _names := {}  # peer id -> name
var _wander := Vector2.RIGHT
var _since_move := 0.0
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
	multiplayer.server_disconnected.connect(_on_server_disconnected)
	multiplayer.peer_connected.connect(_on_peer_connected)
	multiplayer.peer_disconnected.connect(_on_peer_disconnected)
	multiplayer.multiplayer_peer = peer
	$HUD/Say.text_submitted.connect(_on_say)
	_log("connecting to %s:%d as %s" % [server_address, server_port, player_name])


func _process(delta: float) -> void:
	if multiplayer.multiplayer_peer == null or not multiplayer.has_multiplayer_peer() or multiplayer.get_peers().is_empty():
		return
	var me := _avatar(multiplayer.get_unique_id())
	var input := Input.get_vector("ui_left", "ui_right", "ui_up", "ui_down")
	if input == Vector2.ZERO:
		if randf() < delta:
			_wander = _wander.rotated(randf_range(-2.0, 2.0))
		input = _wander
	me.position = (me.position + input * SPEED * delta).clamp(Vector2(16, 16), Vector2(784, 520))
	_since_move += delta
	if _since_move >= 1.0 / MOVES_PER_SECOND:
		_since_move = 0.0
		move.rpc(me.position)


# --- authentication: our name goes first; the server answers "welcome" (or drops us).

func _on_peer_authenticating(id: int) -> void:
	multiplayer.send_auth(id, player_name.to_utf8_buffer())


func _on_auth(id: int, data: PackedByteArray) -> void:
	_log("server: " + data.get_string_from_utf8())
	multiplayer.complete_auth(id)


# --- the RPCs. The server (Node) declares the same four methods.

## Client -> server: a chat line.
@rpc("any_peer")
func chat(_text: String) -> void:
	pass  # handled by the server


## Server -> clients: a chat line from someone.
@rpc("authority")
func chat_message(from: String, text: String) -> void:
	_log("%s: %s" % [from, text])


## Every peer -> every other peer (through the server's relay): where my square is.
@rpc("any_peer", "unreliable_ordered")
func move(to: Vector2) -> void:
	_avatar(multiplayer.get_remote_sender_id()).position = to


## Server -> clients: the name of a player.
@rpc("authority")
func player_info(id: int, name_of_player: String) -> void:
	_names[id] = name_of_player
	_avatar(id).get_node("Name").text = name_of_player


# --- peers

func _on_connected() -> void:
	_log("connected as peer %d" % multiplayer.get_unique_id())
	_avatar(multiplayer.get_unique_id()).get_node("Name").text = player_name + " (you)"


func _on_peer_connected(id: int) -> void:
	if id != 1:
		_avatar(id)


func _on_peer_disconnected(id: int) -> void:
	if $Players.has_node(str(id)):
		$Players.get_node(str(id)).queue_free()
		_log("%s left" % _names.get(id, "peer %d" % id))


func _on_server_disconnected() -> void:
	_log("the server closed the connection")
	for child in $Players.get_children():
		child.queue_free()


func _on_say(text: String) -> void:
	if text.strip_edges() != "":
		chat.rpc_id(1, text)
	$HUD/Say.clear()


func _avatar(id: int) -> Node2D:
	if $Players.has_node(str(id)):
		return $Players.get_node(str(id))
	var avatar := Node2D.new()
	avatar.name = str(id)
	avatar.position = Vector2(randf_range(100, 700), randf_range(100, 450))
	var square := ColorRect.new()
	square.size = Vector2(16, 16)
	square.position = Vector2(-8, -8)
	square.color = Color.from_hsv(float(id % 360) / 360.0, 0.7, 0.95)
	avatar.add_child(square)
	var label := Label.new()
	label.name = "Name"
	label.position = Vector2(-8, 10)
	label.text = _names.get(id, "peer %d" % id)
	avatar.add_child(label)
	$Players.add_child(avatar)
	return avatar


func _log(line: String) -> void:
	print(line)
	_lines.append(line)
	if _lines.size() > 20:
		_lines = _lines.slice(_lines.size() - 20)
	$HUD/Log.text = "\n".join(_lines)

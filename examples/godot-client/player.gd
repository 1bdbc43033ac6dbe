## A player's square, spawned by the server's PlayerSpawner and named after the player's peer id. The
## server owns where it is and what it is called (the State synchronizer); the player's own peer owns
## where it wants to go (the Input synchronizer, which only the server sees).
extends Node2D

@export var player_name: String = "":
	set(value):
		player_name = value
		if is_node_ready():
			$Name.text = value


func _enter_tree() -> void:
	# Before the synchronizers start: the input belongs to the player's peer, on every peer.
	$Input.set_multiplayer_authority(str(name).to_int())


func _ready() -> void:
	var id := str(name).to_int()
	$Square.color = Color.from_hsv(float(id % 360) / 360.0, 0.7, 0.95)
	$Name.text = player_name
	if id == multiplayer.get_unique_id():
		$Name.text += " (you)"

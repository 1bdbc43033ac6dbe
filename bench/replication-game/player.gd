extends Node2D


func _enter_tree() -> void:
	$Input.set_multiplayer_authority(str(name).to_int())

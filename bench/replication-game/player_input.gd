extends MultiplayerSynchronizer

@export var direction: Vector2 = Vector2.ZERO


func _ready() -> void:
	if is_multiplayer_authority():
		set_visibility_for(1, true)

## The player's input: the arrow keys, or a slow wander when they are idle. Only the player's own peer
## writes it; it goes to the server at 20 Hz, which moves the square.
extends MultiplayerSynchronizer

@export var direction: Vector2 = Vector2.ZERO

var _wander := Vector2.RIGHT


func _ready() -> void:
	if is_multiplayer_authority():
		set_visibility_for(1, true)
	set_process(is_multiplayer_authority())


func _process(delta: float) -> void:
	var input := Input.get_vector("ui_left", "ui_right", "ui_up", "ui_down")
	if input == Vector2.ZERO:
		if randf() < delta:
			_wander = _wander.rotated(randf_range(-2.0, 2.0))
		input = _wander
	direction = input

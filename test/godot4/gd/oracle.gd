extends Node
## The test harness inside Godot, autoloaded as `Oracle` (see test/godot4/README.md).
## Talks to the Node test process through two page functions: window.oracleEmit(json) sends a message
## (a CDP binding), window.oracleDrain() returns the JSON array of messages Node queued since the last call.

## A test's command from Node: oracle.command(name, args). `args` keeps its Variant types (it travels
## through var_to_bytes on the Node side and bytes_to_var here).
signal command(name: String, args: Array)

var _window: JavaScriptObject
var _bridges := {}  # bridge id -> BridgePeer (weak: a bridge forgets itself when freed)
var _next_bridge := 1
var _commands: Array = []


func _enter_tree() -> void:
	process_mode = Node.PROCESS_MODE_ALWAYS
	process_priority = -1000
	_window = JavaScriptBridge.get_interface("window")


func _ready() -> void:
	# Autoloads and the main scene are ready before the first frame is processed.
	await get_tree().process_frame
	send({"t": "ready"})


func _process(_delta: float) -> void:
	pump()
	# A command waits for the next frame: every bridge message that Node sent before it has then been
	# applied by its bridge's _poll (multiplayer polls run at the start of a frame, before _process).
	var frame := Engine.get_process_frames()
	while _commands and _commands[0][0] < frame:
		var c: Array = _commands.pop_front()
		command.emit(c[1], c[2])


## Sends `d` to the test: it arrives as an OracleReport (values decoded with their Variant types,
## plus type_string() and var_to_str() of each top-level value as Godot sees it).
func report(d: Dictionary) -> void:
	var types := {}
	var text := {}
	for k in d:
		types[str(k)] = type_string(typeof(d[k]))
		text[str(k)] = var_to_str(d[k])
	send({"t": "report", "hex": var_to_bytes(d).hex_encode(), "types": types, "text": text})


## A new bridge peer's id, with its first message to Node (create_client / create_server).
func open_bridge(peer: BridgePeer, msg: Dictionary) -> int:
	var id := _next_bridge
	_next_bridge += 1
	_bridges[id] = weakref(peer)
	msg["b"] = id
	send(msg)
	return id


func send(msg: Dictionary) -> void:
	_window.oracleEmit(JSON.stringify(msg))


## Moves every queued message from Node to its bridge (applied in the bridge's next _poll) or to the
## commands emitted in this node's next _process. Called every frame and by each bridge's _poll.
func pump() -> void:
	var batch: String = _window.oracleDrain()
	if batch == "[]":
		return
	for msg in JSON.parse_string(batch):
		if msg.t == "command":
			_commands.append([Engine.get_process_frames(), msg.name, bytes_to_var(msg.args.hex_decode())])
			continue
		var ref: WeakRef = _bridges.get(int(msg.b))
		var peer: BridgePeer = ref.get_ref() if ref else null
		if peer:
			peer.inbox.append(msg)

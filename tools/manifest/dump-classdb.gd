# Prints Godot's ClassDB facts for tools/manifest/native-table.js: every class with its parent, and the
# properties (name, Variant type, usage) of every Node class. Run as the main scene's script; it quits.
extends Node
func _ready():
	var classes := ClassDB.get_class_list()
	classes.sort()
	var parents := []
	for c in classes:
		parents.append(c + ":" + ClassDB.get_parent_class(c))
	print("CLASSES " + ",".join(parents))
	for c in classes:
		if not ClassDB.is_parent_class(c, "Node"):
			continue
		var props := []
		for p in ClassDB.class_get_property_list(c, true):
			if p.type == TYPE_NIL:
				continue
			var t: String = type_string(p.type)
			if p.type == TYPE_OBJECT:
				t = "Object/" + p.class_name
			if p.type == TYPE_ARRAY and p.hint == PROPERTY_HINT_ARRAY_TYPE:
				t = "Array[" + p.hint_string + "]"
			props.append(p.name + ":" + t + ":" + str(p.usage))
		print("PROPS " + c + " " + ",".join(props))
	get_tree().quit()

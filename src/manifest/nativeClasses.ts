/**
 * Facts about Godot 4.6's native classes that the manifest needs: the parent of every Node class (plus
 * Object, RefCounted and Resource) to follow `extends` and node types to their native root, and the types
 * of the native properties games replicate, to type `MultiplayerSynchronizer` values.
 *
 * Both tables were read out of a real Godot 4.6.stable (the official web export template, run headless):
 * `ClassDB.get_class_list()` with `ClassDB.get_parent_class()`, and `ClassDB.class_get_property_list(c,
 * true)` for the classes below and their ancestors, with Object-typed properties written as 'Object' and
 * grouped names ('theme_override_colors/…') left out. Properties are each class's own; inheritance is
 * followed at lookup.
 */

const NATIVE_CLASS_PARENTS =
  'AcceptDialog:Window AimModifier3D:BoneConstraint3D AnimatableBody2D:StaticBody2D ' +
  'AnimatableBody3D:StaticBody3D AnimatedSprite2D:Node2D AnimatedSprite3D:SpriteBase3D ' +
  'AnimationMixer:Node AnimationPlayer:AnimationMixer AnimationTree:AnimationMixer ' +
  'Area2D:CollisionObject2D Area3D:CollisionObject3D AspectRatioContainer:Container ' +
  'AudioListener2D:Node2D AudioListener3D:Node3D AudioStreamPlayer:Node AudioStreamPlayer2D:Node2D ' +
  'AudioStreamPlayer3D:Node3D BackBufferCopy:Node2D BaseButton:Control Bone2D:Node2D ' +
  'BoneAttachment3D:Node3D BoneConstraint3D:SkeletonModifier3D BoneTwistDisperser3D:SkeletonModifier3D ' +
  'BoxContainer:Container Button:BaseButton CCDIK3D:IterateIK3D CPUParticles2D:Node2D ' +
  'CPUParticles3D:GeometryInstance3D CSGBox3D:CSGPrimitive3D CSGCombiner3D:CSGShape3D ' +
  'CSGCylinder3D:CSGPrimitive3D CSGMesh3D:CSGPrimitive3D CSGPolygon3D:CSGPrimitive3D ' +
  'CSGPrimitive3D:CSGShape3D CSGShape3D:GeometryInstance3D CSGSphere3D:CSGPrimitive3D ' +
  'CSGTorus3D:CSGPrimitive3D Camera2D:Node2D Camera3D:Node3D CanvasGroup:Node2D CanvasItem:Node ' +
  'CanvasLayer:Node CanvasModulate:Node2D CenterContainer:Container ChainIK3D:IKModifier3D ' +
  'CharacterBody2D:PhysicsBody2D CharacterBody3D:PhysicsBody3D CheckBox:Button CheckButton:Button ' +
  'CodeEdit:TextEdit CollisionObject2D:Node2D CollisionObject3D:Node3D CollisionPolygon2D:Node2D ' +
  'CollisionPolygon3D:Node3D CollisionShape2D:Node2D CollisionShape3D:Node3D ColorPicker:VBoxContainer ' +
  'ColorPickerButton:Button ColorRect:Control ConeTwistJoint3D:Joint3D ConfirmationDialog:AcceptDialog ' +
  'Container:Control Control:CanvasItem ConvertTransformModifier3D:BoneConstraint3D ' +
  'CopyTransformModifier3D:BoneConstraint3D DampedSpringJoint2D:Joint2D Decal:VisualInstance3D ' +
  'DirectionalLight2D:Light2D DirectionalLight3D:Light3D FABRIK3D:IterateIK3D ' +
  'FileDialog:ConfirmationDialog FlowContainer:Container FogVolume:VisualInstance3D ' +
  'FoldableContainer:Container GPUParticles2D:Node2D GPUParticles3D:GeometryInstance3D ' +
  'GPUParticlesAttractor3D:VisualInstance3D GPUParticlesAttractorBox3D:GPUParticlesAttractor3D ' +
  'GPUParticlesAttractorSphere3D:GPUParticlesAttractor3D ' +
  'GPUParticlesAttractorVectorField3D:GPUParticlesAttractor3D GPUParticlesCollision3D:VisualInstance3D ' +
  'GPUParticlesCollisionBox3D:GPUParticlesCollision3D ' +
  'GPUParticlesCollisionHeightField3D:GPUParticlesCollision3D ' +
  'GPUParticlesCollisionSDF3D:GPUParticlesCollision3D ' +
  'GPUParticlesCollisionSphere3D:GPUParticlesCollision3D Generic6DOFJoint3D:Joint3D ' +
  'GeometryInstance3D:VisualInstance3D GraphEdit:Control GraphElement:Container GraphFrame:GraphElement ' +
  'GraphNode:GraphElement GridContainer:Container GridMap:Node3D GrooveJoint2D:Joint2D ' +
  'HBoxContainer:BoxContainer HFlowContainer:FlowContainer HScrollBar:ScrollBar HSeparator:Separator ' +
  'HSlider:Slider HSplitContainer:SplitContainer HTTPRequest:Node HingeJoint3D:Joint3D ' +
  'IKModifier3D:SkeletonModifier3D ImporterMeshInstance3D:Node3D InstancePlaceholder:Node ' +
  'ItemList:Control IterateIK3D:ChainIK3D JacobianIK3D:IterateIK3D Joint2D:Node2D Joint3D:Node3D ' +
  'Label:Control Label3D:GeometryInstance3D Light2D:Node2D Light3D:VisualInstance3D ' +
  'LightOccluder2D:Node2D LightmapGI:VisualInstance3D LightmapProbe:Node3D ' +
  'LimitAngularVelocityModifier3D:SkeletonModifier3D Line2D:Node2D LineEdit:Control ' +
  'LinkButton:BaseButton LookAtModifier3D:SkeletonModifier3D MarginContainer:Container Marker2D:Node2D ' +
  'Marker3D:Node3D MenuBar:Control MenuButton:Button MeshInstance2D:Node2D ' +
  'MeshInstance3D:GeometryInstance3D MissingNode:Node ModifierBoneTarget3D:SkeletonModifier3D ' +
  'MultiMeshInstance2D:Node2D MultiMeshInstance3D:GeometryInstance3D MultiplayerSpawner:Node ' +
  'MultiplayerSynchronizer:Node NavigationAgent2D:Node NavigationAgent3D:Node NavigationLink2D:Node2D ' +
  'NavigationLink3D:Node3D NavigationObstacle2D:Node2D NavigationObstacle3D:Node3D ' +
  'NavigationRegion2D:Node2D NavigationRegion3D:Node3D NinePatchRect:Control Node:Object ' +
  'Node2D:CanvasItem Node3D:Node Object: OccluderInstance3D:VisualInstance3D OmniLight3D:Light3D ' +
  'OptionButton:Button Panel:Control PanelContainer:Container Parallax2D:Node2D ' +
  'ParallaxBackground:CanvasLayer ParallaxLayer:Node2D Path2D:Node2D Path3D:Node3D PathFollow2D:Node2D ' +
  'PathFollow3D:Node3D PhysicalBone2D:RigidBody2D PhysicalBone3D:PhysicsBody3D ' +
  'PhysicalBoneSimulator3D:SkeletonModifier3D PhysicsBody2D:CollisionObject2D ' +
  'PhysicsBody3D:CollisionObject3D PinJoint2D:Joint2D PinJoint3D:Joint3D PointLight2D:Light2D ' +
  'Polygon2D:Node2D Popup:Window PopupMenu:Popup PopupPanel:Popup ProgressBar:Range Range:Control ' +
  'RayCast2D:Node2D RayCast3D:Node3D RefCounted:Object ReferenceRect:Control ' +
  'ReflectionProbe:VisualInstance3D RemoteTransform2D:Node2D RemoteTransform3D:Node3D ' +
  'Resource:RefCounted ResourcePreloader:Node RetargetModifier3D:SkeletonModifier3D ' +
  'RichTextLabel:Control RigidBody2D:PhysicsBody2D RigidBody3D:PhysicsBody3D ' +
  'RootMotionView:VisualInstance3D ScrollBar:Range ScrollContainer:Container Separator:Control ' +
  'ShaderGlobalsOverride:Node ShapeCast2D:Node2D ShapeCast3D:Node3D Skeleton2D:Node2D Skeleton3D:Node3D ' +
  'SkeletonIK3D:SkeletonModifier3D SkeletonModifier3D:Node3D Slider:Range SliderJoint3D:Joint3D ' +
  'SoftBody3D:MeshInstance3D SpinBox:Range SplineIK3D:ChainIK3D SplitContainer:Container ' +
  'SpotLight3D:Light3D SpringArm3D:Node3D SpringBoneCollision3D:Node3D ' +
  'SpringBoneCollisionCapsule3D:SpringBoneCollision3D SpringBoneCollisionPlane3D:SpringBoneCollision3D ' +
  'SpringBoneCollisionSphere3D:SpringBoneCollision3D SpringBoneSimulator3D:SkeletonModifier3D ' +
  'Sprite2D:Node2D Sprite3D:SpriteBase3D SpriteBase3D:GeometryInstance3D StaticBody2D:PhysicsBody2D ' +
  'StaticBody3D:PhysicsBody3D StatusIndicator:Node SubViewport:Viewport SubViewportContainer:Container ' +
  'TabBar:Control TabContainer:Container TextEdit:Control TextureButton:BaseButton ' +
  'TextureProgressBar:Range TextureRect:Control TileMap:Node2D TileMapLayer:Node2D Timer:Node ' +
  'TouchScreenButton:Node2D Tree:Control TwoBoneIK3D:IKModifier3D VBoxContainer:BoxContainer ' +
  'VFlowContainer:FlowContainer VScrollBar:ScrollBar VSeparator:Separator VSlider:Slider ' +
  'VSplitContainer:SplitContainer VehicleBody3D:RigidBody3D VehicleWheel3D:Node3D ' +
  'VideoStreamPlayer:Control Viewport:Node VisibleOnScreenEnabler2D:VisibleOnScreenNotifier2D ' +
  'VisibleOnScreenEnabler3D:VisibleOnScreenNotifier3D VisibleOnScreenNotifier2D:Node2D ' +
  'VisibleOnScreenNotifier3D:VisualInstance3D VisualInstance3D:Node3D VoxelGI:VisualInstance3D ' +
  'Window:Viewport WorldEnvironment:Node XRAnchor3D:XRNode3D XRBodyModifier3D:SkeletonModifier3D ' +
  'XRCamera3D:Camera3D XRController3D:XRNode3D XRFaceModifier3D:Node3D ' +
  'XRHandModifier3D:SkeletonModifier3D XRNode3D:Node3D XROrigin3D:Node3D';

const NATIVE_PROPERTIES: Record<string, string> = {
  AnimatableBody2D:
    'sync_to_physics:bool',
  AnimatableBody3D:
    'sync_to_physics:bool',
  AnimatedSprite2D:
    'sprite_frames:Object animation:StringName autoplay:StringName frame:int frame_progress:float ' +
    'speed_scale:float centered:bool offset:Vector2 flip_h:bool flip_v:bool',
  AnimatedSprite3D:
    'sprite_frames:Object animation:StringName autoplay:StringName frame:int frame_progress:float ' +
    'speed_scale:float',
  AnimationMixer:
    'active:bool deterministic:bool reset_on_save:bool root_node:NodePath root_motion_track:NodePath ' +
    'root_motion_local:bool audio_max_polyphony:int callback_mode_process:int callback_mode_method:int ' +
    'callback_mode_discrete:int',
  AnimationPlayer:
    'current_animation:StringName assigned_animation:StringName autoplay:StringName ' +
    'current_animation_length:float current_animation_position:float playback_auto_capture:bool ' +
    'playback_auto_capture_duration:float playback_auto_capture_transition_type:int ' +
    'playback_auto_capture_ease_type:int playback_default_blend_time:float speed_scale:float ' +
    'movie_quit_on_finish:bool',
  AnimationTree:
    'tree_root:Object advance_expression_base_node:NodePath anim_player:NodePath',
  Area2D:
    'monitoring:bool monitorable:bool priority:int gravity_space_override:int gravity_point:bool ' +
    'gravity_point_unit_distance:float gravity_point_center:Vector2 gravity_direction:Vector2 ' +
    'gravity:float linear_damp_space_override:int linear_damp:float angular_damp_space_override:int ' +
    'angular_damp:float audio_bus_override:bool audio_bus_name:StringName',
  Area3D:
    'monitoring:bool monitorable:bool priority:int gravity_space_override:int gravity_point:bool ' +
    'gravity_point_unit_distance:float gravity_point_center:Vector3 gravity_direction:Vector3 ' +
    'gravity:float linear_damp_space_override:int linear_damp:float angular_damp_space_override:int ' +
    'angular_damp:float wind_force_magnitude:float wind_attenuation_factor:float ' +
    'wind_source_path:NodePath audio_bus_override:bool audio_bus_name:StringName reverb_bus_enabled:bool ' +
    'reverb_bus_name:StringName reverb_bus_amount:float reverb_bus_uniformity:float',
  AudioStreamPlayer:
    'stream:Object volume_db:float volume_linear:float pitch_scale:float playing:bool autoplay:bool ' +
    'stream_paused:bool mix_target:int max_polyphony:int bus:StringName playback_type:int',
  AudioStreamPlayer2D:
    'stream:Object volume_db:float volume_linear:float pitch_scale:float playing:bool autoplay:bool ' +
    'stream_paused:bool max_distance:float attenuation:float max_polyphony:int panning_strength:float ' +
    'bus:StringName area_mask:int playback_type:int',
  AudioStreamPlayer3D:
    'stream:Object attenuation_model:int volume_db:float volume_linear:float unit_size:float ' +
    'max_db:float pitch_scale:float playing:bool autoplay:bool stream_paused:bool max_distance:float ' +
    'max_polyphony:int panning_strength:float bus:StringName area_mask:int playback_type:int ' +
    'emission_angle_enabled:bool emission_angle_degrees:float emission_angle_filter_attenuation_db:float ' +
    'attenuation_filter_cutoff_hz:float attenuation_filter_db:float doppler_tracking:int',
  BaseButton:
    'disabled:bool toggle_mode:bool button_pressed:bool action_mode:int button_mask:int ' +
    'keep_pressed_outside:bool button_group:Object shortcut:Object shortcut_feedback:bool ' +
    'shortcut_in_tooltip:bool',
  BoneAttachment3D:
    'bone_name:StringName bone_idx:int override_pose:bool use_external_skeleton:bool ' +
    'external_skeleton:NodePath',
  BoxContainer:
    'alignment:int vertical:bool',
  Button:
    'text:String icon:Object flat:bool alignment:int text_overrun_behavior:int autowrap_mode:int ' +
    'autowrap_trim_flags:int clip_text:bool icon_alignment:int vertical_icon_alignment:int ' +
    'expand_icon:bool text_direction:int language:String',
  CPUParticles2D:
    'emitting:bool amount:int texture:Object lifetime:float one_shot:bool preprocess:float ' +
    'speed_scale:float explosiveness:float randomness:float use_fixed_seed:bool seed:int ' +
    'lifetime_randomness:float fixed_fps:int fract_delta:bool local_coords:bool draw_order:int ' +
    'emission_shape:int emission_sphere_radius:float emission_rect_extents:Vector2 ' +
    'emission_points:PackedVector2Array emission_normals:PackedVector2Array ' +
    'emission_colors:PackedColorArray emission_ring_inner_radius:float emission_ring_radius:float ' +
    'particle_flag_align_y:bool direction:Vector2 spread:float gravity:Vector2 ' +
    'initial_velocity_min:float initial_velocity_max:float angular_velocity_min:float ' +
    'angular_velocity_max:float angular_velocity_curve:Object orbit_velocity_min:float ' +
    'orbit_velocity_max:float orbit_velocity_curve:Object linear_accel_min:float linear_accel_max:float ' +
    'linear_accel_curve:Object radial_accel_min:float radial_accel_max:float radial_accel_curve:Object ' +
    'tangential_accel_min:float tangential_accel_max:float tangential_accel_curve:Object ' +
    'damping_min:float damping_max:float damping_curve:Object angle_min:float angle_max:float ' +
    'angle_curve:Object scale_amount_min:float scale_amount_max:float scale_amount_curve:Object ' +
    'split_scale:bool scale_curve_x:Object scale_curve_y:Object color:Color color_ramp:Object ' +
    'color_initial_ramp:Object hue_variation_min:float hue_variation_max:float ' +
    'hue_variation_curve:Object anim_speed_min:float anim_speed_max:float anim_speed_curve:Object ' +
    'anim_offset_min:float anim_offset_max:float anim_offset_curve:Object',
  CPUParticles3D:
    'emitting:bool amount:int lifetime:float one_shot:bool preprocess:float speed_scale:float ' +
    'explosiveness:float randomness:float use_fixed_seed:bool seed:int lifetime_randomness:float ' +
    'fixed_fps:int fract_delta:bool visibility_aabb:AABB local_coords:bool draw_order:int mesh:Object ' +
    'emission_shape:int emission_sphere_radius:float emission_box_extents:Vector3 ' +
    'emission_points:PackedVector3Array emission_normals:PackedVector3Array ' +
    'emission_colors:PackedColorArray emission_ring_axis:Vector3 emission_ring_height:float ' +
    'emission_ring_radius:float emission_ring_inner_radius:float emission_ring_cone_angle:float ' +
    'particle_flag_align_y:bool particle_flag_rotate_y:bool particle_flag_disable_z:bool ' +
    'direction:Vector3 spread:float flatness:float gravity:Vector3 initial_velocity_min:float ' +
    'initial_velocity_max:float angular_velocity_min:float angular_velocity_max:float ' +
    'angular_velocity_curve:Object orbit_velocity_min:float orbit_velocity_max:float ' +
    'orbit_velocity_curve:Object linear_accel_min:float linear_accel_max:float linear_accel_curve:Object ' +
    'radial_accel_min:float radial_accel_max:float radial_accel_curve:Object tangential_accel_min:float ' +
    'tangential_accel_max:float tangential_accel_curve:Object damping_min:float damping_max:float ' +
    'damping_curve:Object angle_min:float angle_max:float angle_curve:Object scale_amount_min:float ' +
    'scale_amount_max:float scale_amount_curve:Object split_scale:bool scale_curve_x:Object ' +
    'scale_curve_y:Object scale_curve_z:Object color:Color color_ramp:Object color_initial_ramp:Object ' +
    'hue_variation_min:float hue_variation_max:float hue_variation_curve:Object anim_speed_min:float ' +
    'anim_speed_max:float anim_speed_curve:Object anim_offset_min:float anim_offset_max:float ' +
    'anim_offset_curve:Object',
  Camera2D:
    'offset:Vector2 anchor_mode:int ignore_rotation:bool enabled:bool zoom:Vector2 ' +
    'custom_viewport:Object process_callback:int limit_enabled:bool limit_left:int limit_top:int ' +
    'limit_right:int limit_bottom:int limit_smoothed:bool position_smoothing_enabled:bool ' +
    'position_smoothing_speed:float rotation_smoothing_enabled:bool rotation_smoothing_speed:float ' +
    'drag_horizontal_enabled:bool drag_vertical_enabled:bool drag_horizontal_offset:float ' +
    'drag_vertical_offset:float drag_left_margin:float drag_top_margin:float drag_right_margin:float ' +
    'drag_bottom_margin:float editor_draw_screen:bool editor_draw_limits:bool ' +
    'editor_draw_drag_margin:bool',
  Camera3D:
    'keep_aspect:int cull_mask:int environment:Object attributes:Object compositor:Object h_offset:float ' +
    'v_offset:float doppler_tracking:int projection:int current:bool fov:float size:float ' +
    'frustum_offset:Vector2 near:float far:float',
  CanvasItem:
    'visible:bool modulate:Color self_modulate:Color show_behind_parent:bool top_level:bool ' +
    'clip_children:int light_mask:int visibility_layer:int z_index:int z_as_relative:bool ' +
    'y_sort_enabled:bool texture_filter:int texture_repeat:int material:Object use_parent_material:bool',
  CanvasLayer:
    'layer:int visible:bool offset:Vector2 rotation:float scale:Vector2 transform:Transform2D ' +
    'custom_viewport:Object follow_viewport_enabled:bool follow_viewport_scale:float',
  CanvasModulate:
    'color:Color',
  CharacterBody2D:
    'motion_mode:int up_direction:Vector2 velocity:Vector2 slide_on_ceiling:bool max_slides:int ' +
    'wall_min_slide_angle:float floor_stop_on_slope:bool floor_constant_speed:bool ' +
    'floor_block_on_wall:bool floor_max_angle:float floor_snap_length:float platform_on_leave:int ' +
    'platform_floor_layers:int platform_wall_layers:int safe_margin:float',
  CharacterBody3D:
    'motion_mode:int up_direction:Vector3 slide_on_ceiling:bool velocity:Vector3 max_slides:int ' +
    'wall_min_slide_angle:float floor_stop_on_slope:bool floor_constant_speed:bool ' +
    'floor_block_on_wall:bool floor_max_angle:float floor_snap_length:float platform_on_leave:int ' +
    'platform_floor_layers:int platform_wall_layers:int safe_margin:float',
  CollisionObject2D:
    'disable_mode:int collision_layer:int collision_mask:int collision_priority:float ' +
    'input_pickable:bool',
  CollisionObject3D:
    'disable_mode:int collision_layer:int collision_mask:int collision_priority:float ' +
    'input_ray_pickable:bool input_capture_on_drag:bool',
  CollisionPolygon2D:
    'build_mode:int polygon:PackedVector2Array disabled:bool one_way_collision:bool ' +
    'one_way_collision_margin:float',
  CollisionShape2D:
    'shape:Object disabled:bool one_way_collision:bool one_way_collision_margin:float debug_color:Color',
  CollisionShape3D:
    'shape:Object disabled:bool debug_color:Color debug_fill:bool',
  ColorRect:
    'color:Color',
  Control:
    'clip_contents:bool custom_minimum_size:Vector2 layout_direction:int layout_mode:int ' +
    'anchors_preset:int anchor_left:float anchor_top:float anchor_right:float anchor_bottom:float ' +
    'offset_left:float offset_top:float offset_right:float offset_bottom:float grow_horizontal:int ' +
    'grow_vertical:int size:Vector2 position:Vector2 global_position:Vector2 rotation:float ' +
    'rotation_degrees:float scale:Vector2 pivot_offset:Vector2 pivot_offset_ratio:Vector2 ' +
    'size_flags_horizontal:int size_flags_vertical:int size_flags_stretch_ratio:float ' +
    'localize_numeral_system:bool auto_translate:bool tooltip_text:String ' +
    'tooltip_auto_translate_mode:int focus_neighbor_left:NodePath focus_neighbor_top:NodePath ' +
    'focus_neighbor_right:NodePath focus_neighbor_bottom:NodePath focus_next:NodePath ' +
    'focus_previous:NodePath focus_mode:int focus_behavior_recursive:int mouse_filter:int ' +
    'mouse_behavior_recursive:int mouse_force_pass_scroll_events:bool mouse_default_cursor_shape:int ' +
    'shortcut_context:Object accessibility_name:String accessibility_description:String ' +
    'accessibility_live:int accessibility_controls_nodes:Array[NodePath] ' +
    'accessibility_described_by_nodes:Array[NodePath] accessibility_labeled_by_nodes:Array[NodePath] ' +
    'accessibility_flow_to_nodes:Array[NodePath] theme:Object theme_type_variation:String',
  DirectionalLight2D:
    'height:float max_distance:float',
  DirectionalLight3D:
    'directional_shadow_mode:int directional_shadow_split_1:float directional_shadow_split_2:float ' +
    'directional_shadow_split_3:float directional_shadow_blend_splits:bool ' +
    'directional_shadow_fade_start:float directional_shadow_max_distance:float ' +
    'directional_shadow_pancake_size:float sky_mode:int',
  GPUParticles2D:
    'emitting:bool amount:int amount_ratio:float sub_emitter:NodePath texture:Object lifetime:float ' +
    'interp_to_end:float one_shot:bool preprocess:float speed_scale:float explosiveness:float ' +
    'randomness:float use_fixed_seed:bool seed:int fixed_fps:int interpolate:bool fract_delta:bool ' +
    'collision_base_size:float visibility_rect:Rect2 local_coords:bool draw_order:int trail_enabled:bool ' +
    'trail_lifetime:float trail_sections:int trail_section_subdivisions:int process_material:Object',
  GPUParticles3D:
    'emitting:bool amount:int amount_ratio:float sub_emitter:NodePath lifetime:float interp_to_end:float ' +
    'one_shot:bool preprocess:float speed_scale:float explosiveness:float randomness:float ' +
    'use_fixed_seed:bool seed:int fixed_fps:int interpolate:bool fract_delta:bool ' +
    'collision_base_size:float visibility_aabb:AABB local_coords:bool draw_order:int transform_align:int ' +
    'trail_enabled:bool trail_lifetime:float process_material:Object draw_passes:int draw_pass_1:Object ' +
    'draw_pass_2:Object draw_pass_3:Object draw_pass_4:Object draw_skin:Object',
  GeometryInstance3D:
    'material_override:Object material_overlay:Object transparency:float cast_shadow:int ' +
    'extra_cull_margin:float custom_aabb:AABB lod_bias:float ignore_occlusion_culling:bool gi_mode:int ' +
    'gi_lightmap_texel_scale:float gi_lightmap_scale:int visibility_range_begin:float ' +
    'visibility_range_begin_margin:float visibility_range_end:float visibility_range_end_margin:float ' +
    'visibility_range_fade_mode:int',
  GridContainer:
    'columns:int',
  Label:
    'text:String label_settings:Object horizontal_alignment:int vertical_alignment:int autowrap_mode:int ' +
    'autowrap_trim_flags:int justification_flags:int paragraph_separator:String clip_text:bool ' +
    'text_overrun_behavior:int ellipsis_char:String uppercase:bool tab_stops:PackedFloat32Array ' +
    'lines_skipped:int max_lines_visible:int visible_characters:int visible_characters_behavior:int ' +
    'visible_ratio:float text_direction:int language:String structured_text_bidi_override:int ' +
    'structured_text_bidi_override_options:Array',
  Label3D:
    'pixel_size:float offset:Vector2 billboard:int shaded:bool double_sided:bool no_depth_test:bool ' +
    'fixed_size:bool alpha_cut:int alpha_scissor_threshold:float alpha_hash_scale:float ' +
    'alpha_antialiasing_mode:int alpha_antialiasing_edge:float texture_filter:int render_priority:int ' +
    'outline_render_priority:int modulate:Color outline_modulate:Color text:String font:Object ' +
    'font_size:int outline_size:int horizontal_alignment:int vertical_alignment:int uppercase:bool ' +
    'line_spacing:float autowrap_mode:int autowrap_trim_flags:int justification_flags:int width:float ' +
    'text_direction:int language:String structured_text_bidi_override:int ' +
    'structured_text_bidi_override_options:Array',
  Light2D:
    'enabled:bool editor_only:bool color:Color energy:float blend_mode:int range_z_min:int ' +
    'range_z_max:int range_layer_min:int range_layer_max:int range_item_cull_mask:int ' +
    'shadow_enabled:bool shadow_color:Color shadow_filter:int shadow_filter_smooth:float ' +
    'shadow_item_cull_mask:int',
  Light3D:
    'light_intensity_lumens:float light_intensity_lux:float light_temperature:float light_color:Color ' +
    'light_energy:float light_indirect_energy:float light_volumetric_fog_energy:float light_size:float ' +
    'light_angular_distance:float light_negative:bool light_specular:float light_bake_mode:int ' +
    'light_cull_mask:int shadow_enabled:bool shadow_bias:float shadow_normal_bias:float ' +
    'shadow_reverse_cull_face:bool shadow_transmittance_bias:float shadow_opacity:float ' +
    'shadow_blur:float shadow_caster_mask:int distance_fade_enabled:bool distance_fade_begin:float ' +
    'distance_fade_shadow:float distance_fade_length:float editor_only:bool',
  Line2D:
    'points:PackedVector2Array closed:bool width:float width_curve:Object default_color:Color ' +
    'gradient:Object texture:Object texture_mode:int joint_mode:int begin_cap_mode:int end_cap_mode:int ' +
    'sharp_limit:float round_precision:int antialiased:bool',
  LineEdit:
    'text:String placeholder_text:String alignment:int max_length:int editable:bool ' +
    'keep_editing_on_text_submit:bool expand_to_text_length:bool context_menu_enabled:bool ' +
    'emoji_menu_enabled:bool backspace_deletes_composite_character_enabled:bool ' +
    'clear_button_enabled:bool shortcut_keys_enabled:bool middle_mouse_paste_enabled:bool ' +
    'selecting_enabled:bool deselect_on_focus_loss_enabled:bool drag_and_drop_selection_enabled:bool ' +
    'flat:bool draw_control_chars:bool select_all_on_focus:bool virtual_keyboard_enabled:bool ' +
    'virtual_keyboard_show_on_focus:bool virtual_keyboard_type:int caret_blink:bool ' +
    'caret_blink_interval:float caret_column:int caret_force_displayed:bool caret_mid_grapheme:bool ' +
    'secret:bool secret_character:String text_direction:int language:String ' +
    'structured_text_bidi_override:int structured_text_bidi_override_options:Array right_icon:Object ' +
    'icon_expand_mode:int right_icon_scale:float',
  Marker2D:
    'gizmo_extents:float',
  Marker3D:
    'gizmo_extents:float',
  MeshInstance3D:
    'mesh:Object skin:Object skeleton:NodePath',
  MultiplayerSpawner:
    'spawn_path:NodePath spawn_limit:int spawn_function:Callable',
  MultiplayerSynchronizer:
    'root_path:NodePath replication_interval:float delta_interval:float replication_config:Object ' +
    'visibility_update_mode:int public_visibility:bool',
  NavigationAgent2D:
    'target_position:Vector2 path_desired_distance:float target_desired_distance:float ' +
    'path_max_distance:float navigation_layers:int pathfinding_algorithm:int path_postprocessing:int ' +
    'path_metadata_flags:int simplify_path:bool simplify_epsilon:float path_return_max_length:float ' +
    'path_return_max_radius:float path_search_max_polygons:int path_search_max_distance:float ' +
    'avoidance_enabled:bool velocity:Vector2 radius:float neighbor_distance:float max_neighbors:int ' +
    'time_horizon_agents:float time_horizon_obstacles:float max_speed:float avoidance_layers:int ' +
    'avoidance_mask:int avoidance_priority:float debug_enabled:bool debug_use_custom:bool ' +
    'debug_path_custom_color:Color debug_path_custom_point_size:float debug_path_custom_line_width:float',
  NavigationAgent3D:
    'target_position:Vector3 path_desired_distance:float target_desired_distance:float ' +
    'path_height_offset:float path_max_distance:float navigation_layers:int pathfinding_algorithm:int ' +
    'path_postprocessing:int path_metadata_flags:int simplify_path:bool simplify_epsilon:float ' +
    'path_return_max_length:float path_return_max_radius:float path_search_max_polygons:int ' +
    'path_search_max_distance:float avoidance_enabled:bool velocity:Vector3 height:float radius:float ' +
    'neighbor_distance:float max_neighbors:int time_horizon_agents:float time_horizon_obstacles:float ' +
    'max_speed:float use_3d_avoidance:bool keep_y_velocity:bool avoidance_layers:int avoidance_mask:int ' +
    'avoidance_priority:float debug_enabled:bool debug_use_custom:bool debug_path_custom_color:Color ' +
    'debug_path_custom_point_size:float',
  NinePatchRect:
    'texture:Object draw_center:bool region_rect:Rect2 patch_margin_left:int patch_margin_top:int ' +
    'patch_margin_right:int patch_margin_bottom:int axis_stretch_horizontal:int ' +
    'axis_stretch_vertical:int',
  Node:
    'name:StringName unique_name_in_owner:bool scene_file_path:String owner:Object multiplayer:Object ' +
    'process_mode:int process_priority:int process_physics_priority:int process_thread_group:int ' +
    'process_thread_group_order:int process_thread_messages:int physics_interpolation_mode:int ' +
    'auto_translate_mode:int editor_description:String',
  Node2D:
    'position:Vector2 rotation:float rotation_degrees:float scale:Vector2 skew:float ' +
    'transform:Transform2D global_position:Vector2 global_rotation:float global_rotation_degrees:float ' +
    'global_scale:Vector2 global_skew:float global_transform:Transform2D',
  Node3D:
    'transform:Transform3D global_transform:Transform3D position:Vector3 rotation:Vector3 ' +
    'rotation_degrees:Vector3 quaternion:Quaternion basis:Basis scale:Vector3 rotation_edit_mode:int ' +
    'rotation_order:int top_level:bool global_position:Vector3 global_basis:Basis ' +
    'global_rotation:Vector3 global_rotation_degrees:Vector3 visible:bool visibility_parent:NodePath',
  OmniLight3D:
    'omni_range:float omni_attenuation:float omni_shadow_mode:int',
  OptionButton:
    'selected:int fit_to_longest_item:bool allow_reselect:bool item_count:int',
  Path2D:
    'curve:Object',
  Path3D:
    'curve:Object debug_custom_color:Color',
  PathFollow2D:
    'progress:float progress_ratio:float h_offset:float v_offset:float rotates:bool cubic_interp:bool ' +
    'loop:bool',
  PathFollow3D:
    'progress:float progress_ratio:float h_offset:float v_offset:float rotation_mode:int ' +
    'use_model_front:bool cubic_interp:bool loop:bool tilt_enabled:bool',
  PhysicsBody3D:
    'axis_lock_linear_x:bool axis_lock_linear_y:bool axis_lock_linear_z:bool axis_lock_angular_x:bool ' +
    'axis_lock_angular_y:bool axis_lock_angular_z:bool',
  PointLight2D:
    'offset:Vector2 texture_scale:float height:float',
  Polygon2D:
    'color:Color offset:Vector2 antialiased:bool texture:Object texture_offset:Vector2 ' +
    'texture_scale:Vector2 texture_rotation:float skeleton:NodePath invert_enabled:bool ' +
    'invert_border:float polygon:PackedVector2Array uv:PackedVector2Array vertex_colors:PackedColorArray ' +
    'polygons:Array bones:Array internal_vertex_count:int',
  ProgressBar:
    'fill_mode:int show_percentage:bool indeterminate:bool editor_preview_indeterminate:bool',
  Range:
    'min_value:float max_value:float step:float page:float value:float ratio:float exp_edit:bool ' +
    'rounded:bool allow_greater:bool allow_lesser:bool',
  RayCast2D:
    'enabled:bool exclude_parent:bool target_position:Vector2 collision_mask:int hit_from_inside:bool ' +
    'collide_with_areas:bool collide_with_bodies:bool',
  RayCast3D:
    'enabled:bool exclude_parent:bool target_position:Vector3 collision_mask:int hit_from_inside:bool ' +
    'hit_back_faces:bool collide_with_areas:bool collide_with_bodies:bool debug_shape_custom_color:Color ' +
    'debug_shape_thickness:int',
  RemoteTransform2D:
    'remote_path:NodePath use_global_coordinates:bool update_position:bool update_rotation:bool ' +
    'update_scale:bool',
  RemoteTransform3D:
    'remote_path:NodePath use_global_coordinates:bool update_position:bool update_rotation:bool ' +
    'update_scale:bool',
  RichTextLabel:
    'bbcode_enabled:bool text:String fit_content:bool scroll_active:bool scroll_following:bool ' +
    'scroll_following_visible_characters:bool autowrap_mode:int autowrap_trim_flags:int tab_size:int ' +
    'context_menu_enabled:bool shortcut_keys_enabled:bool horizontal_alignment:int ' +
    'vertical_alignment:int justification_flags:int tab_stops:PackedFloat32Array meta_underlined:bool ' +
    'hint_underlined:bool threaded:bool progress_bar_delay:int selection_enabled:bool ' +
    'deselect_on_focus_loss_enabled:bool drag_and_drop_selection_enabled:bool visible_characters:int ' +
    'visible_characters_behavior:int visible_ratio:float text_direction:int language:String ' +
    'structured_text_bidi_override:int structured_text_bidi_override_options:Array',
  RigidBody2D:
    'mass:float physics_material_override:Object gravity_scale:float center_of_mass_mode:int ' +
    'center_of_mass:Vector2 inertia:float sleeping:bool can_sleep:bool lock_rotation:bool freeze:bool ' +
    'freeze_mode:int custom_integrator:bool continuous_cd:int contact_monitor:bool ' +
    'max_contacts_reported:int linear_velocity:Vector2 linear_damp_mode:int linear_damp:float ' +
    'angular_velocity:float angular_damp_mode:int angular_damp:float constant_force:Vector2 ' +
    'constant_torque:float',
  RigidBody3D:
    'mass:float physics_material_override:Object gravity_scale:float center_of_mass_mode:int ' +
    'center_of_mass:Vector3 inertia:Vector3 sleeping:bool can_sleep:bool lock_rotation:bool freeze:bool ' +
    'freeze_mode:int custom_integrator:bool continuous_cd:bool contact_monitor:bool ' +
    'max_contacts_reported:int linear_velocity:Vector3 linear_damp_mode:int linear_damp:float ' +
    'angular_velocity:Vector3 angular_damp_mode:int angular_damp:float constant_force:Vector3 ' +
    'constant_torque:Vector3',
  ShapeCast2D:
    'enabled:bool shape:Object exclude_parent:bool target_position:Vector2 margin:float max_results:int ' +
    'collision_mask:int collision_result:Array collide_with_areas:bool collide_with_bodies:bool',
  ShapeCast3D:
    'enabled:bool shape:Object exclude_parent:bool target_position:Vector3 margin:float max_results:int ' +
    'collision_mask:int collision_result:Array collide_with_areas:bool collide_with_bodies:bool ' +
    'debug_shape_custom_color:Color',
  Slider:
    'editable:bool scrollable:bool tick_count:int ticks_on_borders:bool ticks_position:int',
  SpinBox:
    'alignment:int editable:bool update_on_text_changed:bool prefix:String suffix:String ' +
    'custom_arrow_step:float custom_arrow_round:bool select_all_on_focus:bool',
  SpotLight3D:
    'spot_range:float spot_attenuation:float spot_angle:float spot_angle_attenuation:float',
  SpringArm3D:
    'collision_mask:int shape:Object spring_length:float margin:float',
  Sprite2D:
    'texture:Object centered:bool offset:Vector2 flip_h:bool flip_v:bool hframes:int vframes:int ' +
    'frame:int frame_coords:Vector2i region_enabled:bool region_rect:Rect2 ' +
    'region_filter_clip_enabled:bool',
  Sprite3D:
    'texture:Object hframes:int vframes:int frame:int frame_coords:Vector2i region_enabled:bool ' +
    'region_rect:Rect2',
  SpriteBase3D:
    'centered:bool offset:Vector2 flip_h:bool flip_v:bool modulate:Color pixel_size:float axis:int ' +
    'billboard:int transparent:bool shaded:bool double_sided:bool no_depth_test:bool fixed_size:bool ' +
    'alpha_cut:int alpha_scissor_threshold:float alpha_hash_scale:float alpha_antialiasing_mode:int ' +
    'alpha_antialiasing_edge:float texture_filter:int render_priority:int',
  StaticBody2D:
    'physics_material_override:Object constant_linear_velocity:Vector2 constant_angular_velocity:float',
  StaticBody3D:
    'physics_material_override:Object constant_linear_velocity:Vector3 constant_angular_velocity:Vector3',
  TextEdit:
    'text:String placeholder_text:String editable:bool context_menu_enabled:bool emoji_menu_enabled:bool ' +
    'backspace_deletes_composite_character_enabled:bool shortcut_keys_enabled:bool ' +
    'selecting_enabled:bool deselect_on_focus_loss_enabled:bool drag_and_drop_selection_enabled:bool ' +
    'middle_mouse_paste_enabled:bool empty_selection_clipboard_enabled:bool wrap_mode:int ' +
    'autowrap_mode:int indent_wrapped_lines:bool tab_input_mode:bool virtual_keyboard_enabled:bool ' +
    'virtual_keyboard_show_on_focus:bool scroll_smooth:bool scroll_v_scroll_speed:float ' +
    'scroll_past_end_of_file:bool scroll_vertical:float scroll_horizontal:int ' +
    'scroll_fit_content_height:bool scroll_fit_content_width:bool minimap_draw:bool minimap_width:int ' +
    'caret_type:int caret_blink:bool caret_blink_interval:float caret_draw_when_editable_disabled:bool ' +
    'caret_move_on_right_click:bool caret_mid_grapheme:bool caret_multiple:bool ' +
    'use_default_word_separators:bool use_custom_word_separators:bool custom_word_separators:String ' +
    'syntax_highlighter:Object highlight_all_occurrences:bool highlight_current_line:bool ' +
    'draw_control_chars:bool draw_tabs:bool draw_spaces:bool text_direction:int language:String ' +
    'structured_text_bidi_override:int structured_text_bidi_override_options:Array',
  TextureProgressBar:
    'fill_mode:int radial_initial_angle:float radial_fill_degrees:float radial_center_offset:Vector2 ' +
    'nine_patch_stretch:bool stretch_margin_left:int stretch_margin_top:int stretch_margin_right:int ' +
    'stretch_margin_bottom:int texture_under:Object texture_over:Object texture_progress:Object ' +
    'texture_progress_offset:Vector2 tint_under:Color tint_over:Color tint_progress:Color',
  TextureRect:
    'texture:Object expand_mode:int stretch_mode:int flip_h:bool flip_v:bool',
  TileMapLayer:
    'tile_map_data:PackedByteArray enabled:bool tile_set:Object occlusion_enabled:bool y_sort_origin:int ' +
    'x_draw_order_reversed:bool rendering_quadrant_size:int collision_enabled:bool ' +
    'use_kinematic_bodies:bool collision_visibility_mode:int physics_quadrant_size:int ' +
    'navigation_enabled:bool navigation_visibility_mode:int',
  Timer:
    'process_callback:int wait_time:float one_shot:bool autostart:bool paused:bool ' +
    'ignore_time_scale:bool time_left:float',
  VehicleBody3D:
    'engine_force:float brake:float steering:float',
  VehicleWheel3D:
    'engine_force:float brake:float steering:float use_as_traction:bool use_as_steering:bool ' +
    'wheel_roll_influence:float wheel_radius:float wheel_rest_length:float wheel_friction_slip:float ' +
    'suspension_travel:float suspension_stiffness:float suspension_max_force:float ' +
    'damping_compression:float damping_relaxation:float',
  VisibleOnScreenNotifier2D:
    'rect:Rect2 show_rect:bool',
  VisualInstance3D:
    'layers:int sorting_offset:float sorting_use_aabb_center:bool',
};

const parents = new Map<string, string>();
for (const pair of NATIVE_CLASS_PARENTS.split(' ')) {
  const [name, parent] = pair.split(':');
  parents.set(name, parent);
}

const properties = new Map<string, Map<string, string>>();
for (const [cls, list] of Object.entries(NATIVE_PROPERTIES)) {
  properties.set(cls, new Map(list.split(' ').map((p) => p.split(':') as [string, string])));
}

/** Is this a native class the manifest knows (every Node class of Godot 4.6, Object, RefCounted, Resource)? */
export function isKnownNativeClass(name: string): boolean {
  return parents.has(name);
}

export function isNodeClass(name: string): boolean {
  for (let c: string | undefined = name; c; c = parents.get(c)) if (c === 'Node') return true;
  return false;
}

/** The Variant type name of a native property ('Object' for object-typed ones), or undefined if not in the table. */
export function nativePropertyType(cls: string, property: string): string | undefined {
  for (let c: string | undefined = cls; c; c = parents.get(c)) {
    const type = properties.get(c)?.get(property);
    if (type) return type;
  }
  return undefined;
}

/** Members of built-in types reachable through a NodePath subname (`position:x`, `modulate:a`, `transform:origin`). */
const BUILTIN_MEMBERS: Record<string, Record<string, string>> = {
  Vector2: { x: 'float', y: 'float' },
  Vector2i: { x: 'int', y: 'int' },
  Vector3: { x: 'float', y: 'float', z: 'float' },
  Vector3i: { x: 'int', y: 'int', z: 'int' },
  Vector4: { x: 'float', y: 'float', z: 'float', w: 'float' },
  Vector4i: { x: 'int', y: 'int', z: 'int', w: 'int' },
  Rect2: { position: 'Vector2', size: 'Vector2', end: 'Vector2' },
  Rect2i: { position: 'Vector2i', size: 'Vector2i', end: 'Vector2i' },
  Transform2D: { x: 'Vector2', y: 'Vector2', origin: 'Vector2' },
  Transform3D: { basis: 'Basis', origin: 'Vector3' },
  Basis: { x: 'Vector3', y: 'Vector3', z: 'Vector3' },
  Quaternion: { x: 'float', y: 'float', z: 'float', w: 'float' },
  Plane: { normal: 'Vector3', x: 'float', y: 'float', z: 'float', d: 'float' },
  AABB: { position: 'Vector3', size: 'Vector3', end: 'Vector3' },
  Projection: { x: 'Vector4', y: 'Vector4', z: 'Vector4', w: 'Vector4' },
  Color: {
    r: 'float', g: 'float', b: 'float', a: 'float', h: 'float', s: 'float', v: 'float',
    ok_hsl_h: 'float', ok_hsl_s: 'float', ok_hsl_l: 'float', r8: 'int', g8: 'int', b8: 'int', a8: 'int',
  },
};

export function builtinMemberType(type: string, member: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(BUILTIN_MEMBERS, type) && Object.prototype.hasOwnProperty.call(BUILTIN_MEMBERS[type], member)
    ? BUILTIN_MEMBERS[type][member]
    : undefined;
}

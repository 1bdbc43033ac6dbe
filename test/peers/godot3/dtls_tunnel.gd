# A real Godot DTLS stack for the DTLS interop tests (test/dtls-godot3.test.ts), run headless by Debian's
# godot3-server. That build's ENet has no DTLS (it links the system libenet), but its DTLSServer,
# PacketPeerDTLS and UDPServer (mbedTLS) work; this tunnel puts them around a plain ENet peer exactly the
# way Godot 4's ENet does DTLS: every plain datagram is one DTLS record, and back.
#
#   godot3-server --no-window -s dtls_tunnel.gd --mode=terminator --dtls-port=P --enet-port=E
#       --key=server.key --cert=chain.pem [--lifetime=S]
#     A DTLS server on 127.0.0.1:P (UDPServer + DTLSServer, cookies first, as Godot's ENetDTLSServer).
#     Each DTLS client gets its own plain UDP socket towards the ENet host on 127.0.0.1:E.
#
#   godot3-server --no-window -s dtls_tunnel.gd --mode=initiator --local-port=L --dtls-port=P
#       --hostname=H --ca=ca.pem [--validate=1] [--lifetime=S]
#     Plain UDP on 127.0.0.1:L; the first datagram (from the ENet host to tunnel) opens a DTLS client
#     (PacketPeerDTLS) to 127.0.0.1:P, verifying the certificate for H against ca.pem. Datagrams that
#     arrive during the handshake are dropped, as Godot 4's ENetDTLSClient drops them; after a failed
#     handshake the next datagram starts over.
#
# Events go to stdout as lines starting with "@@ " followed by JSON.
extends SceneTree

const STATUS_NAMES = ["disconnected", "handshaking", "connected", "error", "error_hostname_mismatch"]

var mode = ""
var args = {}
var lifetime = 60.0
var elapsed = 0.0

# terminator
var udp_server = null
var dtls_server = null
var sessions = [] # {"dtls": PacketPeerDTLS, "up": PacketPeerUDP, "status": int}

# initiator
var local = null
var dtls = null
var dtls_status = -1
var dropped = 0

func say(fields):
	print("@@ " + to_json(fields))

func arg_map():
	var out = {}
	for a in OS.get_cmdline_args():
		if a.begins_with("--") and a.find("=") > 0:
			var kv = a.substr(2, a.length() - 2).split("=", true, 1)
			out[kv[0]] = kv[1]
	return out

func _init():
	args = arg_map()
	mode = args.get("mode", "")
	lifetime = float(args.get("lifetime", "60"))
	if mode == "terminator":
		start_terminator()
	elif mode == "initiator":
		start_initiator()
	else:
		say({"ev": "bad_mode", "mode": mode})
		quit()

func start_terminator():
	var key = CryptoKey.new()
	var cert = X509Certificate.new()
	var err = key.load(args["key"])
	if err == OK:
		err = cert.load(args["cert"])
	if err == OK:
		dtls_server = DTLSServer.new()
		err = dtls_server.setup(key, cert)
	if err == OK:
		udp_server = UDPServer.new()
		err = udp_server.listen(int(args["dtls-port"]), "127.0.0.1")
	say({"ev": "ready", "err": err, "version": Engine.get_version_info()["string"]})
	if err != OK:
		quit()

func start_initiator():
	local = PacketPeerUDP.new()
	var err = local.listen(int(args["local-port"]), "127.0.0.1")
	say({"ev": "ready", "err": err, "version": Engine.get_version_info()["string"]})
	if err != OK:
		quit()

func poll_terminator():
	udp_server.poll()
	while udp_server.is_connection_available():
		var udp = udp_server.take_connection()
		var peer = dtls_server.take_connection(udp)
		var status = peer.get_status()
		# The first ClientHello of a client only earns it a cookie (status error, not kept), as in Godot.
		say({"ev": "take_connection", "status": status})
		if status == PacketPeerDTLS.STATUS_HANDSHAKING:
			var up = PacketPeerUDP.new()
			up.connect_to_host("127.0.0.1", int(args["enet-port"]))
			sessions.append({"dtls": peer, "up": up, "status": status})
	for s in sessions.duplicate():
		s["dtls"].poll()
		var status = s["dtls"].get_status()
		if status != s["status"]:
			s["status"] = status
			say({"ev": "status", "side": "server", "status": STATUS_NAMES[status]})
		if status == PacketPeerDTLS.STATUS_CONNECTED:
			while s["dtls"].get_available_packet_count() > 0:
				s["up"].put_packet(s["dtls"].get_packet())
			while s["up"].get_available_packet_count() > 0:
				s["dtls"].put_packet(s["up"].get_packet())
		elif status != PacketPeerDTLS.STATUS_HANDSHAKING:
			s["up"].close()
			sessions.erase(s)

func poll_initiator():
	while local.get_available_packet_count() > 0:
		var data = local.get_packet()
		if dtls == null:
			local.set_dest_address(local.get_packet_ip(), local.get_packet_port())
			var ca = X509Certificate.new()
			ca.load(args["ca"])
			var udp = PacketPeerUDP.new()
			udp.connect_to_host("127.0.0.1", int(args["dtls-port"]))
			dtls = PacketPeerDTLS.new()
			var err = dtls.connect_to_peer(udp, args.get("validate", "1") == "1", args.get("hostname", ""), ca)
			dtls_status = -1
			say({"ev": "connecting", "err": err})
		if dtls_status == PacketPeerDTLS.STATUS_CONNECTED:
			dtls.put_packet(data)
		else:
			dropped += 1
	if dtls == null:
		return
	dtls.poll()
	var status = dtls.get_status()
	if status != dtls_status:
		dtls_status = status
		say({"ev": "status", "side": "client", "status": STATUS_NAMES[status], "dropped": dropped})
	if status == PacketPeerDTLS.STATUS_CONNECTED:
		while dtls.get_available_packet_count() > 0:
			local.put_packet(dtls.get_packet())
	elif status != PacketPeerDTLS.STATUS_HANDSHAKING:
		dtls = null

func _idle(delta):
	elapsed += delta
	if elapsed > lifetime:
		say({"ev": "lifetime_over"})
		quit()
		return false
	if mode == "terminator":
		poll_terminator()
	elif mode == "initiator":
		poll_initiator()
	OS.delay_msec(1)
	return false

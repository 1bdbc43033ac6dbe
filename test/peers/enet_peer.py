#!/usr/bin/python3
"""Scriptable reference ENet peer for interop tests.

This wraps Debian's python3-enet (module ``enet``, linked against upstream
libenet7 1.3.17) so the Node test-suite can talk to a *real* upstream ENet
implementation instead of only to itself.

Protocol: newline-delimited JSON.
  stdin  -> commands, each with an "id" and an "op".
  stdout -> one reply per command: {"reply": id, "ok": true, ...}
            or {"reply": id, "ok": false, "error": "..."},
            plus unsolicited event lines: {"ev": "connect" | "disconnect" |
            "receive" | "datagram" | "ready", ...}.
  stderr -> free-form diagnostics only.

The main loop never blocks for more than ~2 ms: it select()s on stdin and on
the ENet socket together, then drains enet_host_service(0).  Waiting on the
socket fd means an incoming datagram wakes us at once (low latency for RTT
sensitive tests), while the short select timeout keeps ENet's own timers
(resends, pings, timeouts) ticking as they would in a game loop.

Run it with /usr/bin/python3: the module is installed for the system Python
only.
"""

import base64
import ctypes
import hashlib
import json
import os
import select
import sys
import time

try:
    import enet
except ImportError as exc:  # pragma: no cover - environment problem
    # Exit code 3 + this marker lets the Node driver give a precise hint.
    sys.stderr.write(
        "IMPORT_ENET_FAILED: %s (install the Debian package python3-enet and "
        "run with /usr/bin/python3)\n" % exc
    )
    sys.exit(3)


# Largest payload echoed back inside a "receive" event.  Bigger packets are
# reported by length + sha256 only, so a 1 MiB packet does not turn into a
# 1.4 MB JSON line.
MAX_INLINE = 65536

# How long one select() may block; the brief asks for <= 2 ms.
TICK_S = 0.002

# Upper bound of ENet events handled before stdin gets another look, so a
# flood of incoming packets cannot starve command handling.
MAX_EVENTS_PER_TICK = 256

STATE_NAMES = {
    enet.PEER_STATE_DISCONNECTED: "disconnected",
    enet.PEER_STATE_CONNECTING: "connecting",
    enet.PEER_STATE_ACKNOWLEDGING_CONNECT: "acknowledging_connect",
    enet.PEER_STATE_CONNECTION_PENDING: "connection_pending",
    enet.PEER_STATE_CONNECTION_SUCCEEDED: "connection_succeeded",
    enet.PEER_STATE_CONNECTED: "connected",
    enet.PEER_STATE_DISCONNECT_LATER: "disconnect_later",
    enet.PEER_STATE_DISCONNECTING: "disconnecting",
    enet.PEER_STATE_ACKNOWLEDGING_DISCONNECT: "acknowledging_disconnect",
    enet.PEER_STATE_ZOMBIE: "zombie",
}


class CommandError(Exception):
    """Raised by a command handler; becomes an ok:false reply."""


def emit(obj):
    """Write one JSON line to stdout and flush immediately.

    Flushing per line matters: the Node side reacts to each line as it
    arrives, and a block-buffered stdout would delay events by seconds.
    """
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def log(msg):
    sys.stderr.write("[enet_peer] %s\n" % msg)
    sys.stderr.flush()


def pattern(size, channel):
    """Deterministic payload: byte i = (i*7 + channel) mod 256.

    Lets tests send big packets without pushing them through stdin; the
    receiving side recomputes the same bytes (or their sha256) to verify.
    """
    # (i*7 + c) mod 256 repeats every 256 bytes, so build one period and
    # tile it: fast even for multi-megabyte payloads.
    period = bytes(((i * 7 + channel) & 0xFF) for i in range(256))
    return (period * (size // 256 + 1))[:size]


def echo_flags(received_flags):
    """Map the flags of a received packet to the flags used to send it back.

    libenet marks received packets RELIABLE or UNSEQUENCED according to the
    command that carried them (plain unreliable -> 0); unreliable fragments
    keep UNRELIABLE_FRAGMENT.  Anything else (e.g. internal bits) is dropped.
    """
    out = 0
    if received_flags & enet.PACKET_FLAG_RELIABLE:
        out = enet.PACKET_FLAG_RELIABLE
    elif received_flags & enet.PACKET_FLAG_UNSEQUENCED:
        out = enet.PACKET_FLAG_UNSEQUENCED
    if received_flags & enet.PACKET_FLAG_UNRELIABLE_FRAGMENT:
        out |= enet.PACKET_FLAG_UNRELIABLE_FRAGMENT
    return out


class NativeHost:
    """Direct access to the C ENetHost for things pyenet does not wrap.

    pyenet's Host.__hash__ returns the ENetHost* itself, and the module is
    linked against the system libenet.so.7, so ctypes on that same library
    reaches the very same host.  We verify the pointer before trusting it by
    comparing the socket field (offset 0) with Host.socket.fileno().
    """

    # Offsets inside struct _ENetHost for libenet 1.3.17 on 64-bit Linux:
    # socket(int,0) address(host u32 @4, port u16 @8, pad) incomingBandwidth
    # @12, outgoingBandwidth @16, bandwidthThrottleEpoch @20, mtu @24.
    OFF_SOCKET = 0
    OFF_PORT = 8
    OFF_MTU = 24

    def __init__(self, host):
        self.error = None
        self.ptr = None
        self.lib = None
        try:
            lib = ctypes.CDLL("libenet.so.7")
            lib.enet_linked_version.restype = ctypes.c_uint32
            lib.enet_host_compress.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            lib.enet_host_compress.restype = None
            ptr = hash(host)
            sock = ctypes.c_int.from_address(ptr + self.OFF_SOCKET).value
            port = ctypes.c_uint16.from_address(ptr + self.OFF_PORT).value
            if sock != host.socket.fileno() or port != host.address.port:
                raise RuntimeError("ENetHost layout check failed")
            self.lib = lib
            self.ptr = ptr
        except Exception as exc:  # keep working without the extras
            self.error = "native access unavailable: %s" % exc

    def require(self):
        if self.ptr is None:
            raise CommandError(self.error or "native access unavailable")

    def version(self):
        if self.lib is None:
            return None
        v = self.lib.enet_linked_version()
        return "%d.%d.%d" % ((v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)

    def disable_compression(self):
        self.require()
        self.lib.enet_host_compress(self.ptr, None)

    def get_mtu(self):
        self.require()
        return ctypes.c_uint32.from_address(self.ptr + self.OFF_MTU).value

    def set_mtu(self, value):
        self.require()
        ctypes.c_uint32.from_address(self.ptr + self.OFF_MTU).value = value


class Peer:
    """The whole scriptable peer: one ENet host plus the stdin/stdout loop."""

    def __init__(self):
        self.host = None
        self.native = None
        self.frozen = False
        self.echo = False
        self.capture = False
        self.running = True
        self.stdin_buf = b""
        self.compressor = "none"
        # Counters kept by this script (the ENet host counters are separate).
        self.datagrams_in = 0
        self.datagram_bytes_in = 0
        self.events_emitted = {"connect": 0, "disconnect": 0, "receive": 0}
        self.echo_failures = 0

    # ------------------------------------------------------------------
    # helpers

    def need_host(self):
        if self.host is None:
            raise CommandError("no host yet: send {\"op\":\"host\"} first")
        return self.host

    def peer(self, cmd):
        """Look a peer up by its key (= incomingPeerID = index in host.peers)."""
        host = self.need_host()
        if "peer" not in cmd:
            raise CommandError("missing \"peer\"")
        key = int(cmd["peer"])
        if key < 0 or key >= host.peerCount:
            raise CommandError("no peer %d (peerCount %d)" % (key, host.peerCount))
        return host.peers[key]

    @staticmethod
    def payload(cmd):
        """Bytes to send: base64 "data", or a "size"-byte pattern."""
        if cmd.get("data") is not None:
            return base64.b64decode(cmd["data"])
        if cmd.get("size") is not None:
            return pattern(int(cmd["size"]), int(cmd.get("channel", 0)))
        return b""

    def on_intercept(self, address, data):
        """Host.intercept hook: sees every datagram before ENet parses it.

        Returning a falsy value lets ENet process the datagram normally.
        """
        self.datagrams_in += 1
        self.datagram_bytes_in += len(data)
        if self.capture:
            emit({
                "ev": "datagram",
                "address": address.host,
                "port": address.port,
                "len": len(data),
                "data": base64.b64encode(data).decode("ascii"),
            })
        return 0

    # ------------------------------------------------------------------
    # commands (each returns a dict merged into the ok:true reply)

    def op_host(self, cmd):
        if self.host is not None:
            raise CommandError("host already created (one host per process)")
        bind = cmd.get("bind")
        port = int(cmd.get("port", 0))
        if bind is not None and ":" in bind:
            raise CommandError("libenet 1.3.17 is IPv4-only; cannot bind %s" % bind)
        address = enet.Address(bind.encode("ascii"), port) if bind is not None else None
        try:
            host = enet.Host(
                address,
                int(cmd.get("peers", 32)),
                int(cmd.get("channels", 0)),
                int(cmd.get("in", 0)),
                int(cmd.get("out", 0)),
            )
        except Exception as exc:
            raise CommandError("enet_host_create failed: %s" % exc)
        self.host = host
        self.native = NativeHost(host)
        intercept = False
        if hasattr(enet.Host, "intercept"):
            host.intercept = self.on_intercept
            intercept = True
        return {
            "port": host.address.port,
            "address": host.address.host,
            "intercept": intercept,
            "native": self.native.ptr is not None,
            "enet_version": self.native.version(),
        }

    def op_connect(self, cmd):
        host = self.need_host()
        address = enet.Address(str(cmd.get("address", "127.0.0.1")).encode("ascii"),
                               int(cmd["port"]))
        try:
            peer = host.connect(address, int(cmd.get("channels", 255)),
                                int(cmd.get("data", 0)))
        except Exception as exc:
            raise CommandError("connect failed: %s" % exc)
        return {"peer": peer.incomingPeerID}

    def op_send(self, cmd):
        peer = self.peer(cmd)
        channel = int(cmd.get("channel", 0))
        flags = int(cmd.get("flags", 0))
        data = self.payload(cmd)
        repeat = int(cmd.get("repeat", 1))
        failed = 0
        # One Packet per send: pyenet hands ownership of each Packet to ENet.
        for _ in range(repeat):
            rc = peer.send(channel, enet.Packet(data, flags))
            if rc is None or rc < 0:
                failed += 1
        if failed:
            raise CommandError("enet_peer_send failed %d of %d times" % (failed, repeat))
        return {"len": len(data), "sent": repeat,
                "sha256": hashlib.sha256(data).hexdigest()}

    def op_send_seq(self, cmd):
        """Queue "count" numbered packets: a big-endian u32 index (from
        "start", default 0) followed by the "size"-byte pattern of the
        channel, so the receiver can check completeness and order."""
        peer = self.peer(cmd)
        channel = int(cmd.get("channel", 0))
        flags = int(cmd.get("flags", enet.PACKET_FLAG_RELIABLE))
        count = int(cmd["count"])
        start = int(cmd.get("start", 0))
        body = pattern(int(cmd.get("size", 0)), channel)
        failed = 0
        for i in range(start, start + count):
            data = (i & 0xFFFFFFFF).to_bytes(4, "big") + body
            rc = peer.send(channel, enet.Packet(data, flags))
            if rc is None or rc < 0:
                failed += 1
        if failed:
            raise CommandError("enet_peer_send failed %d of %d times" % (failed, count))
        return {"sent": count, "len": 4 + len(body)}

    def op_send_batch(self, cmd):
        """Queue several packets at once, in order, before the next service:
        "packets" is a list of {"channel", "flags", "data" (base64) or
        "size"}.  Useful to see how queued packets of different kinds are
        put on the wire together."""
        peer = self.peer(cmd)
        failed = 0
        for item in cmd.get("packets", []):
            data = self.payload(item)
            rc = peer.send(int(item.get("channel", 0)), enet.Packet(data, int(item.get("flags", 0))))
            if rc is None or rc < 0:
                failed += 1
        if failed:
            raise CommandError("enet_peer_send failed %d times" % failed)
        return {"sent": len(cmd.get("packets", []))}

    def op_broadcast(self, cmd):
        host = self.need_host()
        data = self.payload(cmd)
        host.broadcast(int(cmd.get("channel", 0)),
                       enet.Packet(data, int(cmd.get("flags", 0))))
        return {"len": len(data)}

    def op_disconnect(self, cmd):
        peer = self.peer(cmd)
        data = int(cmd.get("data", 0))
        mode = cmd.get("mode", "normal")
        if mode == "normal":
            peer.disconnect(data)
        elif mode == "later":
            peer.disconnect_later(data)
        elif mode == "now":
            peer.disconnect_now(data)
        else:
            raise CommandError("unknown disconnect mode %r" % mode)
        return {}

    def op_reset(self, cmd):
        self.peer(cmd).reset()
        return {}

    def op_peer_timeout(self, cmd):
        """enet_peer_timeout(peer, limit, minimum, maximum), which pyenet does
        not wrap, called through libenet on the very ENetPeer (0 = ENet's
        default for that value).  Lets a test make a connection that nobody
        answers any more time out in about a second instead of 5-30 s."""
        p = self.peer(cmd)
        self.need_host()
        self.native.require()
        # pyenet's Peer.__hash__ is the ENetPeer*; ENetPeer starts with the
        # dispatch list node (two pointers) followed by `ENetHost *host`.
        ptr = hash(p)
        if ctypes.c_void_p.from_address(ptr + 2 * ctypes.sizeof(ctypes.c_void_p)).value != self.native.ptr:
            raise CommandError("ENetPeer layout check failed")
        fn = self.native.lib.enet_peer_timeout
        fn.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32]
        fn.restype = None
        fn(ptr, int(cmd.get("limit", 0)), int(cmd.get("min", 0)), int(cmd.get("max", 0)))
        return {}

    def op_ping(self, cmd):
        self.peer(cmd).ping()
        return {}

    def op_flush(self, cmd):
        self.need_host().flush()
        return {}

    def op_compress(self, cmd):
        host = self.need_host()
        mode = cmd.get("mode", "range")
        if mode == "range":
            if host.compress_with_range_coder() not in (0, None):
                raise CommandError("enet_host_compress_with_range_coder failed")
        elif mode == "none":
            # pyenet has no way to clear the compressor; go through libenet.
            self.native.disable_compression()
        else:
            raise CommandError("unknown compress mode %r" % mode)
        self.compressor = mode
        return {}

    def op_checksum(self, cmd):
        # pyenet's Host.checksum setter installs enet_crc32 for ENET_CRC32
        # (only that value is meaningful) and clears it otherwise.
        host = self.need_host()
        host.checksum = enet.ENET_CRC32 if cmd.get("on", True) else 0
        return {"checksum": bool(host.checksum)}

    def op_mtu(self, cmd):
        # host->mtu is copied into each peer at connect time and then
        # negotiated down to the smaller side's value; pyenet does not expose
        # it, so poke the struct (layout verified in NativeHost).
        value = int(cmd["value"])
        if value < 576 or value > 4096:
            raise CommandError("mtu must be within ENet's 576..4096")
        self.need_host()
        before = self.native.get_mtu()
        self.native.set_mtu(value)
        return {"before": before, "mtu": self.native.get_mtu()}

    def op_echo(self, cmd):
        self.echo = bool(cmd.get("on", True))
        return {}

    def op_capture(self, cmd):
        self.capture = bool(cmd.get("on", True))
        return {}

    def op_freeze(self, cmd):
        self.frozen = True
        return {}

    def op_thaw(self, cmd):
        self.frozen = False
        return {}

    def op_peer_info(self, cmd):
        p = self.peer(cmd)
        address = p.address
        return {
            "peer": p.incomingPeerID,
            "state": STATE_NAMES.get(p.state, str(p.state)),
            "stateCode": p.state,
            "address": address.host,
            "port": address.port,
            "roundTripTime": p.roundTripTime,
            "roundTripTimeVariance": p.roundTripTimeVariance,
            "lastRoundTripTime": p.lastRoundTripTime,
            "lowestRoundTripTime": p.lowestRoundTripTime,
            "mtu": p.mtu,
            "channelCount": p.channelCount,
            "connectID": p.connectID,
            "incomingPeerID": p.incomingPeerID,
            "outgoingPeerID": p.outgoingPeerID,
            "incomingSessionID": p.incomingSessionID,
            "outgoingSessionID": p.outgoingSessionID,
            "incomingBandwidth": p.incomingBandwidth,
            "outgoingBandwidth": p.outgoingBandwidth,
            "windowSize": p.windowSize,
            "packetThrottle": p.packetThrottle,
            "packetThrottleLimit": p.packetThrottleLimit,
            "packetThrottleInterval": p.packetThrottleInterval,
            "packetThrottleAcceleration": p.packetThrottleAcceleration,
            "packetThrottleDeceleration": p.packetThrottleDeceleration,
            "packetLoss": p.packetLoss,
            "packetsSent": p.packetsSent,
            "packetsLost": p.packetsLost,
            "reliableDataInTransit": p.reliableDataInTransit,
            "incomingDataTotal": p.incomingDataTotal,
            "outgoingDataTotal": p.outgoingDataTotal,
            "lastSendTime": p.lastSendTime,
            "lastReceiveTime": p.lastReceiveTime,
            "eventData": p.eventData,
        }

    def op_stats(self, cmd):
        host = self.need_host()
        return {
            "totalSentData": host.totalSentData,
            "totalSentPackets": host.totalSentPackets,
            "totalReceivedData": host.totalReceivedData,
            "totalReceivedPackets": host.totalReceivedPackets,
            "datagramsIn": self.datagrams_in,
            "datagramBytesIn": self.datagram_bytes_in,
            "events": dict(self.events_emitted),
            "echoFailures": self.echo_failures,
            "frozen": self.frozen,
            "echo": self.echo,
            "compressor": self.compressor,
            "checksum": bool(host.checksum),
            "mtu": self.native.get_mtu() if self.native and self.native.ptr else None,
        }

    def op_raw(self, cmd):
        data = base64.b64decode(cmd.get("data", ""))
        address = str(cmd.get("address", "127.0.0.1"))
        port = int(cmd["port"])
        if self.host is not None and hasattr(self.host, "socket"):
            # enet_socket_send on the host's own socket: the datagram carries
            # the host's source port, as if ENet had sent it.
            rc = self.host.socket.send(enet.Address(address.encode("ascii"), port), data)
            if rc is None or rc < 0:
                raise CommandError("enet_socket_send failed (%r)" % rc)
            return {"via": "host_socket", "sent": rc}
        import socket as pysocket
        s = pysocket.socket(pysocket.AF_INET, pysocket.SOCK_DGRAM)
        try:
            sent = s.sendto(data, (address, port))
        finally:
            s.close()
        return {"via": "fresh_socket", "sent": sent}

    def op_quit(self, cmd):
        self.running = False
        return {}

    # ------------------------------------------------------------------
    # plumbing

    def handle_line(self, line):
        line = line.strip()
        if not line:
            return
        try:
            cmd = json.loads(line)
        except ValueError as exc:
            log("bad JSON line %r: %s" % (line[:200], exc))
            emit({"reply": None, "ok": False, "error": "bad JSON: %s" % exc})
            return
        cid = cmd.get("id") if isinstance(cmd, dict) else None
        op = cmd.get("op") if isinstance(cmd, dict) else None
        handler = getattr(self, "op_%s" % op, None) if isinstance(op, str) else None
        if handler is None:
            emit({"reply": cid, "ok": False, "error": "unknown op %r" % (op,)})
            return
        try:
            extra = handler(cmd) or {}
        except CommandError as exc:
            emit({"reply": cid, "ok": False, "error": str(exc)})
            return
        except Exception as exc:  # a bug or bad argument: report, keep going
            emit({"reply": cid, "ok": False,
                  "error": "%s: %s" % (type(exc).__name__, exc)})
            return
        reply = {"reply": cid, "ok": True}
        reply.update(extra)
        emit(reply)

    def read_stdin(self):
        """Read whatever stdin has; returns False on EOF."""
        chunk = os.read(sys.stdin.fileno(), 1 << 16)
        if not chunk:
            return False
        self.stdin_buf += chunk
        while b"\n" in self.stdin_buf and self.running:
            line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
            self.handle_line(line.decode("utf-8", "replace"))
        return True

    def dispatch(self, event):
        t = event.type
        if t == enet.EVENT_TYPE_CONNECT:
            p = event.peer
            address = p.address
            self.events_emitted["connect"] += 1
            emit({"ev": "connect", "peer": p.incomingPeerID, "data": event.data,
                  "address": address.host, "port": address.port,
                  "channels": p.channelCount})
        elif t == enet.EVENT_TYPE_DISCONNECT:
            self.events_emitted["disconnect"] += 1
            emit({"ev": "disconnect", "peer": event.peer.incomingPeerID,
                  "data": event.data})
        elif t == enet.EVENT_TYPE_RECEIVE:
            packet = event.packet
            data = packet.data
            flags = packet.flags
            key = event.peer.incomingPeerID
            ev = {"ev": "receive", "peer": key, "channel": event.channelID,
                  "flags": flags, "len": len(data),
                  "sha256": hashlib.sha256(data).hexdigest()}
            if len(data) <= MAX_INLINE:
                ev["data"] = base64.b64encode(data).decode("ascii")
            self.events_emitted["receive"] += 1
            emit(ev)
            if self.echo:
                rc = event.peer.send(event.channelID, enet.Packet(data, echo_flags(flags)))
                if rc is None or rc < 0:
                    self.echo_failures += 1
                    log("echo send failed rc=%r" % rc)

    def service(self):
        """Drain ENet: service(0) until it reports no event (bounded)."""
        for _ in range(MAX_EVENTS_PER_TICK):
            try:
                event = self.host.service(0)
            except IOError as exc:
                # enet_host_service < 0 is a socket error; report, keep going.
                log("service error: %s" % exc)
                return
            if event is None or event.type == enet.EVENT_TYPE_NONE:
                return
            self.dispatch(event)

    def run(self):
        stdin_fd = sys.stdin.fileno()
        emit({"ev": "ready", "pid": os.getpid(), "python": sys.version.split()[0],
              "module": getattr(enet, "__file__", None)})
        while self.running:
            active = self.host is not None and not self.frozen
            if active:
                self.service()
            fds = [stdin_fd]
            if active:
                fds.append(self.host.socket.fileno())
            try:
                readable, _, _ = select.select(fds, [], [], TICK_S if active else 0.05)
            except InterruptedError:
                continue
            if stdin_fd in readable:
                if not self.read_stdin():
                    log("stdin closed; exiting")
                    break
        if self.host is not None:
            # Push out anything queued (e.g. a disconnect right before quit).
            try:
                self.host.flush()
            except Exception:
                pass


def main():
    try:
        Peer().run()
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        # The driver went away; nothing left to report to.
        pass
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

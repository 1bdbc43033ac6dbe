#include "host.h"

#include <algorithm>
#include <cstring>

#include "addon.h"
#include "compressors.h"
#include "enet_impl.h"
#include "socket_layer.h"


namespace {

// Received packets at least this large reach JS as external Buffers over ENet's own allocation; smaller
// ones are copied into a per-drain arena. An external Buffer costs a finalizer, a global handle and GC
// bookkeeping (measured: 1 KiB echoes ran 25 % faster copied), so only fragmented packets skip the copy.
constexpr size_t kZeroCopyThreshold = 4096;

// Servers see bursts (thousands of CONNECTs at once); ENet's 256 KiB socket buffers hold only about
// 500 small datagrams, so ask for more. The kernel caps it at net.core.[rw]mem_max.
constexpr int kSocketBufferBytes = 4 * 1024 * 1024;

bool ReadAddress(const Napi::Value& value, ENetAddress* address) {
  if (!value.IsTypedArray()) return false;
  auto bytes = value.As<Napi::Uint8Array>();
  if (bytes.TypedArrayType() != napi_uint8_array || bytes.ByteLength() != 16) return false;
  std::memset(address, 0, sizeof *address);
  std::memcpy(address->host.s6_addr, bytes.Data(), 16);
  return true;
}

void FreePacket(Napi::Env, uint8_t*, ENetPacket* packet) { enet_packet_destroy(packet); }

}  // namespace

Napi::Function HostWrap::Define(Napi::Env env) {
  return DefineClass(env, "Host", {
      InstanceMethod<&HostWrap::Create>("create"),
      InstanceMethod<&HostWrap::Destroy>("destroy"),
      InstanceMethod<&HostWrap::Connect>("connect"),
      InstanceMethod<&HostWrap::Service>("service"),
      InstanceMethod<&HostWrap::CheckEvents>("checkEvents"),
      InstanceMethod<&HostWrap::Flush>("flush"),
      InstanceMethod<&HostWrap::BandwidthLimit>("bandwidthLimit"),
      InstanceMethod<&HostWrap::ChannelLimit>("channelLimit"),
      InstanceMethod<&HostWrap::Broadcast>("broadcast"),
      InstanceMethod<&HostWrap::Compress>("compress"),
      InstanceMethod<&HostWrap::PopStatistic>("popStatistic"),
      InstanceMethod<&HostWrap::MaxChannels>("maxChannels"),
      InstanceMethod<&HostWrap::LocalPort>("localPort"),
      InstanceMethod<&HostWrap::SocketSend>("socketSend"),
      InstanceMethod<&HostWrap::Generation>("generation"),
      InstanceMethod<&HostWrap::Counters>("counters"),
      InstanceMethod<&HostWrap::Watch>("watch"),
      InstanceMethod<&HostWrap::Unwatch>("unwatch"),
      InstanceMethod<&HostWrap::KeepAlive>("keepAlive"),
      InstanceMethod<&HostWrap::DtlsServerSetup>("dtlsServerSetup"),
      InstanceMethod<&HostWrap::DtlsClientSetup>("dtlsClientSetup"),
      InstanceMethod<&HostWrap::DtlsRefuse>("dtlsRefuse"),
      InstanceMethod<&HostWrap::DtlsError>("dtlsError"),
      InstanceMethod<&HostWrap::PeerSend>("peerSend"),
      InstanceMethod<&HostWrap::CommitSends>("commitSends"),
      InstanceMethod<&HostWrap::PeersSend>("peersSend"),
      InstanceMethod<&HostWrap::PeerDisconnect>("peerDisconnect"),
      InstanceMethod<&HostWrap::PeerReset>("peerReset"),
      InstanceMethod<&HostWrap::PeerPing>("peerPing"),
      InstanceMethod<&HostWrap::PeerPingInterval>("peerPingInterval"),
      InstanceMethod<&HostWrap::PeerTimeout>("peerTimeout"),
      InstanceMethod<&HostWrap::PeerThrottleConfigure>("peerThrottleConfigure"),
      InstanceMethod<&HostWrap::PeerStatistic>("peerStatistic"),
      InstanceMethod<&HostWrap::PeerState>("peerState"),
      InstanceMethod<&HostWrap::PeerAddress>("peerAddress"),
      InstanceMethod<&HostWrap::PeerPort>("peerPort"),
      InstanceMethod<&HostWrap::PeerChannels>("peerChannels"),
      InstanceMethod<&HostWrap::PeerQueuedBytes>("peerQueuedBytes"),
  });
}

// new Host(events: Int32Array, packets: Array, sendRecords: Int32Array, sendBytes: Uint8Array,
//          sendable: Int32Array): the TS side owns them all; it reads the first two after each drain,
// fills the next two before CommitSends, and reads the last before staging a send.
HostWrap::HostWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HostWrap>(info) {
  Napi::Env env = info.Env();
  auto isTyped = [&](size_t i, napi_typedarray_type type) {
    return info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == type;
  };
  if (info.Length() < 5 || !isTyped(0, napi_int32_array) || !info[1].IsArray() || !isTyped(2, napi_int32_array) ||
      !isTyped(3, napi_uint8_array) || !isTyped(4, napi_int32_array)) {
    Napi::TypeError::New(env, "Host(events: Int32Array, packets: Array, sendRecords: Int32Array, sendBytes: Uint8Array, sendable: Int32Array)")
        .ThrowAsJavaScriptException();
    return;
  }
  auto events = info[0].As<Napi::Int32Array>();
  if (events.ElementLength() < static_cast<size_t>(kEventFields)) {
    Napi::RangeError::New(env, "Host: event buffer too small").ThrowAsJavaScriptException();
    return;
  }
  eventsRef_ = Napi::Persistent(events);
  packetsRef_ = Napi::Persistent(info[1].As<Napi::Array>());
  events_ = events.Data();
  eventCapacity_ = events.ElementLength() / kEventFields;
  auto sendRecords = info[2].As<Napi::Int32Array>();
  auto sendBytes = info[3].As<Napi::Uint8Array>();
  auto sendable = info[4].As<Napi::Int32Array>();
  sendRecordsRef_ = Napi::Persistent(sendRecords);
  sendBytesRef_ = Napi::Persistent(sendBytes);
  sendableRef_ = Napi::Persistent(sendable);
  sendRecords_ = sendRecords.Data();
  sendRecordCapacity_ = sendRecords.ElementLength() / kSendFields;
  sendBytes_ = sendBytes.Data();
  sendBytesCapacity_ = sendBytes.ByteLength();
  sendable_ = sendable.Data();
  sendableCapacity_ = sendable.ElementLength();
  std::fill(sendable_, sendable_ + sendableCapacity_, -1);
}

HostWrap::~HostWrap() { DestroyHost(); }

void HostWrap::DestroyHost() {
  StopWatching();  // before the socket closes under the poll handle
  if (host_ == nullptr) return;
  // Sends nothing but, on a DTLS host, close_notify (as Godot): remotes time out (frees every packet:
  // ledgers_ still valid; the socket layer frees dtls_).
  enet_host_destroy(host_);
  host_ = nullptr;
  dtls_ = nullptr;
  generation_.clear();
  ledgers_.clear();
  std::fill(sendable_, sendable_ + sendableCapacity_, -1);
}

// create(bindAddress: Uint8Array(16) | null, port, maxPeers, maxChannels, inBandwidth, outBandwidth) -> bool
Napi::Value HostWrap::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (host_ != nullptr) return Napi::Boolean::New(env, false);
  ENetAddress address;
  bool bound = ReadAddress(info[0], &address);
  address.port = static_cast<enet_uint16>(info[1].As<Napi::Number>().Uint32Value());
  size_t maxPeers = info[2].As<Napi::Number>().Uint32Value();
  size_t maxChannels = info[3].As<Napi::Number>().Uint32Value();
  enet_uint32 in = info[4].As<Napi::Number>().Uint32Value();
  enet_uint32 out = info[5].As<Napi::Number>().Uint32Value();
  if (env.IsExceptionPending()) return env.Undefined();
  if (maxPeers < 1 || maxPeers > ENET_PROTOCOL_MAXIMUM_PEER_ID || maxPeers > sendableCapacity_) return Napi::Boolean::New(env, false);

  host_ = enet_host_create(bound ? &address : nullptr, maxPeers, maxChannels, in, out);
  if (host_ == nullptr) return Napi::Boolean::New(env, false);
  enet_socket_set_option(host_->socket, ENET_SOCKOPT_RCVBUF, kSocketBufferBytes);
  enet_socket_set_option(host_->socket, ENET_SOCKOPT_SNDBUF, kSocketBufferBytes);
  if (maxPeers > 1) godot_enet_socket_batch_receives(host_->socket);  // servers: recvmmsg where there is one
  generation_.assign(maxPeers, 0);
  ledgers_.assign(maxPeers, SendLedger{});
  serviceErrors_ = 0;
  stagedSendsRefused_ = 0;
  std::fill(sendable_, sendable_ + sendableCapacity_, -1);
  return Napi::Boolean::New(env, true);
}

Napi::Value HostWrap::Destroy(const Napi::CallbackInfo& info) {
  bool had = host_ != nullptr;
  DestroyHost();
  return Napi::Boolean::New(info.Env(), had);
}

// connect(address: Uint8Array(16), port, channels, data) -> slot, or -1 when ENet has no free slot
Napi::Value HostWrap::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENetAddress address;
  if (host_ == nullptr || !ReadAddress(info[0], &address)) return Napi::Number::New(env, -1);
  address.port = static_cast<enet_uint16>(info[1].As<Napi::Number>().Uint32Value());
  size_t channels = info[2].As<Napi::Number>().Uint32Value();
  enet_uint32 data = info[3].As<Napi::Number>().Uint32Value();
  if (env.IsExceptionPending()) return env.Undefined();
  ENetPeer* peer = enet_host_connect(host_, &address, channels, data);
  if (peer != nullptr) MarkSendable(peer);
  return Napi::Number::New(env, peer == nullptr ? -1 : static_cast<double>(peer - host_->peers));
}

void HostWrap::EndConnection(ENetPeer* peer) {
  size_t slot = peer - host_->peers;
  ++generation_[slot];
  sendable_[slot] = -1;
  // A DTLS server closes the session the connection ran on (Godot: enet_peer_socket_destroy).
  if (dtls_ != nullptr) godot_enet_dtls_peer_ended(dtls_, &peer->address, static_cast<unsigned>(slot));
}

void HostWrap::MarkSendable(ENetPeer* peer) {
  size_t slot = peer - host_->peers;
  sendable_[slot] = peer->state == ENET_PEER_STATE_CONNECTED ? static_cast<int32_t>(generation_[slot]) : -1;
}

Napi::Value HostWrap::Drain(Napi::Env env, int timeout) {
  if (host_ == nullptr) return Napi::Number::New(env, -1);
  Napi::Array packets = packetsRef_.Value();
  uint32_t packetCount = 1;  // packets[0] is the arena of small packets, see below
  size_t arenaBytes = 0;
  smallPackets_.clear();
  size_t count = 0;
  ENetEvent event;
  // One full enet_host_service (send, receive, send, dispatch), then keep reading whatever else has
  // arrived without its send passes, which scan every peer slot each. ACKs still queued at the end (by
  // those reads, or by a read that produced a CONNECT or DISCONNECT, which ENet returns before its
  // second send pass) leave in one flush: left for the next wake, they would add up to the timer
  // period to the remote's RTT samples. Without I/O (`timeout` < 0) only the events ENet already holds
  // are taken.
  bool io = timeout >= 0;
  // Events still queued from a drain that stopped at capacity are handed over without I/O: a send pass
  // now would send the replies JS made to the first part of that batch without those to the rest,
  // splitting what would have left as one datagram per peer into two.
  if (!enet_list_empty(&host_->dispatchQueue)) io = false;
  auto wait = static_cast<enet_uint32>(io ? timeout : 0);
  while (count < eventCapacity_) {
    int result;
    if (!io) {
      result = enet_host_check_events(host_, &event);
    } else if (count == 0) {
      result = enet_host_service(host_, &event, wait);
    } else {
      result = godot_enet_host_receive(host_, &event);
    }
    wait = 0;
    if (result < 0) {
      // zpl reports passing trouble (a bad datagram, say) this way; the host is still fine, so
      // count it instead of failing the caller, and still drain the events already queued.
      ++serviceErrors_;
      if (!io) break;
      io = false;
      continue;
    }
    if (result == 0) break;

    int32_t* record = events_ + count * kEventFields;
    size_t slot = event.peer - host_->peers;
    record[0] = event.type;
    record[1] = static_cast<int32_t>(slot);
    record[2] = static_cast<int32_t>(generation_[slot]);
    record[3] = static_cast<int32_t>(event.data);
    record[4] = event.type == ENET_EVENT_TYPE_RECEIVE ? event.channelID : 0;  // ENet leaves it unset otherwise
    record[5] = 0;
    record[6] = record[7] = record[8] = 0;
    if (event.type == ENET_EVENT_TYPE_RECEIVE) {
      ENetPacket* packet = event.packet;
      record[5] = static_cast<int32_t>(packet->flags);
      record[8] = static_cast<int32_t>(packet->dataLength);
      if (packet->dataLength >= kZeroCopyThreshold) {
        // Large: the Buffer is ENet's own allocation, freed with the packet when JS lets go of it.
        auto buffer = Napi::Buffer<uint8_t>::New(env, packet->data, packet->dataLength, FreePacket, packet);
        if (buffer.IsEmpty() || env.IsExceptionPending()) {
          // JS can take nothing more (a worker being terminated): the packet is ours to free.
          enet_packet_destroy(packet);
          break;
        }
        packets.Set(packetCount, buffer);
        record[6] = static_cast<int32_t>(packetCount++);
      } else {
        record[7] = static_cast<int32_t>(arenaBytes);
        arenaBytes += packet->dataLength;
        smallPackets_.push_back(packet);
      }
    } else if (event.type == ENET_EVENT_TYPE_DISCONNECT || event.type == ENET_EVENT_TYPE_DISCONNECT_TIMEOUT) {
      EndConnection(event.peer);
    } else if (event.type == ENET_EVENT_TYPE_CONNECT) {
      MarkSendable(event.peer);
      // This connection claims its DTLS session, which then no longer expires (Godot: enet_peer_socket_bind).
      if (dtls_ != nullptr) godot_enet_dtls_peer_bound(dtls_, &event.peer->address, static_cast<unsigned>(slot));
    }
    ++count;
  }
  // A DTLS client's failed handshake or session: Godot's enet_host_service returns -1 for it (EVENT_ERROR).
  const char* dtlsFailure = dtls_ != nullptr && count < eventCapacity_ ? godot_enet_dtls_take_error(dtls_) : nullptr;
  if (dtlsFailure != nullptr) {
    dtlsError_ = dtlsFailure;
    int32_t* record = events_ + count * kEventFields;
    std::memset(record, 0, sizeof(int32_t) * kEventFields);
    record[0] = kEventError;
    ++count;
  }
  if (timeout >= 0 && host_->acknowledgementsQueued) enet_host_flush(host_);  // the flag: patch 0015
  // Peers whose state changed with their event not handed over yet: a timeout or DISCONNECT beyond a
  // full batch, or a DISCONNECT whose acknowledgement that flush just sent.
  for (ENetListIterator it = enet_list_begin(&host_->dispatchQueue); it != enet_list_end(&host_->dispatchQueue);
       it = enet_list_next(it)) {
    MarkSendable(reinterpret_cast<ENetPeer*>(it));  // dispatchList is ENetPeer's first member
  }
  // Small packets share one Buffer per drain (JS takes views of it): one allocation instead of one each.
  if (!smallPackets_.empty()) {
    auto arena = Napi::Buffer<uint8_t>::New(env, arenaBytes);
    bool usable = !arena.IsEmpty() && !env.IsExceptionPending() && (arenaBytes == 0 || arena.Data() != nullptr);
    uint8_t* at = usable ? arena.Data() : nullptr;
    for (ENetPacket* packet : smallPackets_) {
      if (usable) {
        std::memcpy(at, packet->data, packet->dataLength);
        at += packet->dataLength;
      }
      enet_packet_destroy(packet);
    }
    smallPackets_.clear();
    if (!usable) return Napi::Number::New(env, 0);  // a dying environment: nothing more reaches JS
    packets.Set(0u, arena);
  }
  return Napi::Number::New(env, static_cast<double>(count));
}

// service(timeoutMs) -> number of events written (-1: no host). Received packets go to the packets array.
Napi::Value HostWrap::Service(const Napi::CallbackInfo& info) {
  int timeout = info[0].As<Napi::Number>().Int32Value();
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  return Drain(info.Env(), timeout < 0 ? 0 : timeout);
}

Napi::Value HostWrap::CheckEvents(const Napi::CallbackInfo& info) { return Drain(info.Env(), -1); }

Napi::Value HostWrap::Flush(const Napi::CallbackInfo& info) {
  if (host_ != nullptr) enet_host_flush(host_);
  return info.Env().Undefined();
}

Napi::Value HostWrap::BandwidthLimit(const Napi::CallbackInfo& info) {
  enet_uint32 in = info[0].As<Napi::Number>().Uint32Value();
  enet_uint32 out = info[1].As<Napi::Number>().Uint32Value();
  if (host_ != nullptr && !info.Env().IsExceptionPending()) enet_host_bandwidth_limit(host_, in, out);
  return info.Env().Undefined();
}

Napi::Value HostWrap::ChannelLimit(const Napi::CallbackInfo& info) {
  size_t limit = info[0].As<Napi::Number>().Uint32Value();
  if (host_ != nullptr && !info.Env().IsExceptionPending()) enet_host_channel_limit(host_, limit);
  return info.Env().Undefined();
}

// broadcast(channel, data: Uint8Array, flags) -> bool
Napi::Value HostWrap::Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (host_ == nullptr || !info[1].IsTypedArray()) return Napi::Boolean::New(env, false);
  auto channel = static_cast<enet_uint8>(info[0].As<Napi::Number>().Uint32Value());
  auto data = info[1].As<Napi::Uint8Array>();
  enet_uint32 flags = info[2].As<Napi::Number>().Uint32Value();
  if (env.IsExceptionPending()) return env.Undefined();
  ENetPacket* packet = enet_packet_create(data.Data(), data.ByteLength(), flags);
  if (packet == nullptr) return Napi::Boolean::New(env, false);
  enet_host_broadcast(host_, channel, packet);  // takes ownership, destroys it if no peer took it
  return Napi::Boolean::New(env, true);
}

// compress(mode) -> bool. Modes are Godot's CompressionMode (deps/enet/compressors.h): NONE removes the
// compressor; RANGE_CODER, FASTLZ, ZLIB and ZSTD install ours, which replaces (and destroys) the one in
// place. False for an unknown mode, or if the new codec's memory could not be had: the host then keeps
// the compressor it had.
Napi::Value HostWrap::Compress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int mode = info[0].As<Napi::Number>().Int32Value();
  if (host_ == nullptr || env.IsExceptionPending()) return Napi::Boolean::New(env, false);
  if (mode == GODOT_ENET_COMPRESS_NONE) {
    enet_host_compress(host_, nullptr);
    return Napi::Boolean::New(env, true);
  }
  ENetCompressor compressor;
  if (godot_enet_compressor_create(mode, &compressor) != 0) return Napi::Boolean::New(env, false);
  enet_host_compress(host_, &compressor);
  return Napi::Boolean::New(env, true);
}

// popStatistic(which) -> the host counter, reset to 0 (Godot's HostStatistic order)
Napi::Value HostWrap::PopStatistic(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int which = info[0].As<Napi::Number>().Int32Value();
  if (host_ == nullptr) return Napi::Number::New(env, 0);
  enet_uint32* counters[] = {&host_->totalSentData, &host_->totalSentPackets, &host_->totalReceivedData,
                             &host_->totalReceivedPackets};
  if (which < 0 || which > 3) return Napi::Number::New(env, 0);
  enet_uint32 value = *counters[which];
  *counters[which] = 0;
  return Napi::Number::New(env, value);
}

Napi::Value HostWrap::MaxChannels(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), host_ == nullptr ? 0 : static_cast<double>(host_->channelLimit));
}

Napi::Value HostWrap::LocalPort(const Napi::CallbackInfo& info) {
  ENetAddress address;
  if (host_ == nullptr || enet_socket_get_address(host_->socket, &address) != 0) return Napi::Number::New(info.Env(), 0);
  return Napi::Number::New(info.Env(), address.port);
}

// socketSend(address: Uint8Array(16), port, data) -> bool: one raw datagram from the host's socket
Napi::Value HostWrap::SocketSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENetAddress address;
  if (host_ == nullptr || !ReadAddress(info[0], &address) || !info[2].IsTypedArray()) return Napi::Boolean::New(env, false);
  address.port = static_cast<enet_uint16>(info[1].As<Napi::Number>().Uint32Value());
  auto data = info[2].As<Napi::Uint8Array>();
  ENetBuffer buffer;
  buffer.data = data.Data();
  buffer.dataLength = data.ByteLength();
  return Napi::Boolean::New(env, enet_socket_send(host_->socket, &address, &buffer, 1) >= 0);
}

Napi::Value HostWrap::Generation(const Napi::CallbackInfo& info) {
  uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
  if (host_ == nullptr || slot >= generation_.size()) return Napi::Number::New(info.Env(), -1);
  return Napi::Number::New(info.Env(), generation_[slot]);
}

// counters() -> what the host dropped or survived without telling ENet's caller (see socket_layer.h)
Napi::Value HostWrap::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  if (host_ == nullptr) return env.Null();
  const GodotENetSocketStats* stats = godot_enet_socket_stats(host_->socket);
  result["serviceErrors"] = static_cast<double>(serviceErrors_);
  result["stagedSendsRefused"] = static_cast<double>(stagedSendsRefused_);
  result["oversizedDropped"] = stats ? static_cast<double>(stats->oversizedDropped) : 0.0;
  result["emptyDropped"] = stats ? static_cast<double>(stats->emptyDropped) : 0.0;
  result["receiveErrors"] = stats ? static_cast<double>(stats->receiveErrors) : 0.0;
  result["sendErrors"] = stats ? static_cast<double>(stats->sendErrors) : 0.0;
  result["interruptedCalls"] = stats ? static_cast<double>(stats->interruptedCalls) : 0.0;
  result["socketLayer"] = stats != nullptr;  // proves our socket functions replaced the header's
  result["socketFamily"] = godot_enet_socket_family(host_->socket);
  result["dtls"] = DtlsCounters(env);
  return result;
}

void HostWrap::StopWatching() {
  if (watcher_ == nullptr) return;
  watcher_->Stop();
  watcher_ = nullptr;
}

// watch(wake: () => void, intervalMs) -> bool: call `wake` from the event loop whenever the socket is
// readable, and every intervalMs for ENet's timers. Calling it again replaces the handler.
Napi::Value HostWrap::Watch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (host_ == nullptr || !info[0].IsFunction()) return Napi::Boolean::New(env, false);
  uint32_t intervalMs = info[1].As<Napi::Number>().Uint32Value();
  if (env.IsExceptionPending()) return env.Undefined();
  StopWatching();
  watcher_ = Watcher::Start(env, host_->socket, info[0].As<Napi::Function>(), intervalMs);
  if (watcher_ != nullptr) watcher_->SetKeepAlive(keepAlive_);
  return Napi::Boolean::New(env, watcher_ != nullptr);
}

Napi::Value HostWrap::Unwatch(const Napi::CallbackInfo& info) {
  StopWatching();
  return info.Env().Undefined();
}

// keepAlive(bool): whether a watched host keeps the process running (like a socket's ref/unref).
Napi::Value HostWrap::KeepAlive(const Napi::CallbackInfo& info) {
  keepAlive_ = info[0].ToBoolean().Value();
  if (watcher_ != nullptr) watcher_->SetKeepAlive(keepAlive_);
  return info.Env().Undefined();
}

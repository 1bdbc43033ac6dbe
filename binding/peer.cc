// Peer methods of HostWrap (Godot's ENetPacketPeer). Every one takes (slot, generation) first and
// does nothing to a stale handle: see host.h.
#include <algorithm>
#include <cstring>

#include "host.h"
#include "socket_layer.h"

ENetPeer* HostWrap::PeerAt(const Napi::CallbackInfo& info) {
  if (host_ == nullptr) return nullptr;
  uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
  uint32_t generation = info[1].As<Napi::Number>().Uint32Value();
  if (info.Env().IsExceptionPending() || slot >= host_->peerCount || generation_[slot] != generation) return nullptr;
  return &host_->peers[slot];
}

namespace {
Napi::Value Stale(Napi::Env env) { return Napi::Number::New(env, HostWrap::kStalePeer); }

// ENet frees a sent packet once it is acknowledged (reliable) or has left (unreliable).
void ReleaseQueued(void* released) {
  auto* packet = static_cast<ENetPacket*>(released);
  static_cast<uint64_t*>(packet->userData)[0] -= packet->dataLength;
}
uint32_t U32(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Uint32Value(); }
}  // namespace

// peerSend(slot, gen, channel, data: Uint8Array, flags) -> 0 sent, -1 ENet refused, kStalePeer, or
// kBadChannel for channel > channelCount (Godot's own check, done here to save a call per send).
Napi::Value HostWrap::PeerSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Stale(env);
  if (!info[3].IsTypedArray()) return Napi::Number::New(env, -1);
  auto channel = static_cast<enet_uint8>(U32(info, 2));
  auto data = info[3].As<Napi::Uint8Array>();
  enet_uint32 flags = U32(info, 4);
  if (env.IsExceptionPending()) return env.Undefined();
  if (U32(info, 2) > peer->channelCount) return Napi::Number::New(env, kBadChannel);
  return Napi::Number::New(env, SendCopy(peer, channel, data.Data(), data.ByteLength(), flags));
}

// commitSends(count) -> how many ENet refused (0 but for a broken staging rule, see sendable_): queues
// the first `count` staged sends, in order, each as a copy of its bytes, as peerSend would have.
Napi::Value HostWrap::CommitSends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t count = std::min<size_t>(U32(info, 0), sendRecordCapacity_);
  if (host_ == nullptr || env.IsExceptionPending()) return Napi::Number::New(env, 0);
  uint32_t refused = 0;
  for (size_t i = 0; i < count; ++i) {
    const int32_t* record = sendRecords_ + i * kSendFields;
    auto slot = static_cast<uint32_t>(record[0]);
    auto offset = static_cast<uint32_t>(record[4]);
    auto length = static_cast<uint32_t>(record[5]);
    bool valid = slot < host_->peerCount && generation_[slot] == static_cast<uint32_t>(record[1]) &&
                 record[2] >= 0 && record[2] < 256 && offset <= sendBytesCapacity_ && length <= sendBytesCapacity_ - offset;
    if (!valid || SendCopy(&host_->peers[slot], static_cast<enet_uint8>(record[2]), sendBytes_ + offset, length,
                           static_cast<enet_uint32>(record[3])) != 0) {
      ++refused;
    }
  }
  stagedSendsRefused_ += refused;
  return Napi::Number::New(env, refused);
}

// peersSend(targets: Int32Array of (slot, gen) pairs, channel, data: Uint8Array, flags) -> how many of
// the peers queued the packet. A multi-target send in one call: each peer gets its own copy, as with
// peerSend, so that its send ledger stays exact. Stale handles and peers that refuse are skipped.
Napi::Value HostWrap::PeersSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (host_ == nullptr || !info[0].IsTypedArray() || !info[2].IsTypedArray()) return Napi::Number::New(env, 0);
  auto targets = info[0].As<Napi::Int32Array>();
  auto channel = static_cast<enet_uint8>(U32(info, 1));
  auto data = info[2].As<Napi::Uint8Array>();
  enet_uint32 flags = U32(info, 3);
  if (env.IsExceptionPending() || targets.TypedArrayType() != napi_int32_array) return Napi::Number::New(env, 0);
  uint32_t queued = 0;
  for (size_t i = 0; i + 1 < targets.ElementLength(); i += 2) {
    auto slot = static_cast<uint32_t>(targets[i]);
    if (slot >= host_->peerCount || generation_[slot] != static_cast<uint32_t>(targets[i + 1])) continue;
    if (SendCopy(&host_->peers[slot], channel, data.Data(), data.ByteLength(), flags) == 0) ++queued;
  }
  return Napi::Number::New(env, queued);
}

// Queues a copy of the bytes to the peer, counted in its send ledger: 0, or -1 if ENet refused it.
int HostWrap::SendCopy(ENetPeer* peer, enet_uint8 channel, const uint8_t* bytes, size_t length, enet_uint32 flags) {
  ENetPacket* packet = enet_packet_create(bytes, length, flags);
  if (packet == nullptr) return -1;
  uint64_t* queued = &ledgers_[peer - host_->peers].queued;
  *queued += packet->dataLength;
  packet->userData = queued;
  packet->freeCallback = ReleaseQueued;
  if (enet_peer_send(peer, channel, packet) < 0) {
    enet_packet_destroy(packet);  // on failure ENet did not take it (its free callback settles the ledger)
    return -1;
  }
  return 0;
}

// peerDisconnect(slot, gen, data, how): how 0 = graceful, 1 = after queued data, 2 = now (no event follows)
Napi::Value HostWrap::PeerDisconnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Stale(env);
  enet_uint32 data = U32(info, 2);
  uint32_t how = U32(info, 3);
  if (how == 2) {
    enet_peer_disconnect_now(peer, data);
    EndConnection(peer);
  } else if (how == 1) {
    enet_peer_disconnect_later(peer, data);
    MarkSendable(peer);
  } else {
    enet_peer_disconnect(peer, data);
    MarkSendable(peer);
  }
  return Napi::Number::New(env, 0);
}

Napi::Value HostWrap::PeerReset(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Stale(info.Env());
  enet_peer_reset(peer);  // sends nothing; the remote times out
  EndConnection(peer);
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value HostWrap::PeerPing(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Stale(info.Env());
  enet_peer_ping(peer);
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value HostWrap::PeerPingInterval(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Stale(info.Env());
  enet_peer_ping_interval(peer, U32(info, 2));
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value HostWrap::PeerTimeout(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Stale(info.Env());
  enet_peer_timeout(peer, U32(info, 2), U32(info, 3), U32(info, 4));
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value HostWrap::PeerThrottleConfigure(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Stale(info.Env());
  enet_peer_throttle_configure(peer, U32(info, 2), U32(info, 3), U32(info, 4));
  return Napi::Number::New(info.Env(), 0);
}

// peerStatistic(slot, gen, which): Godot's PeerStatistic order (0..13), then our extras:
// 14 totalPacketsSent, 15 totalPacketsLost, 16 totalDataSent, 17 totalDataReceived, 18 mtu.
Napi::Value HostWrap::PeerStatistic(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Stale(env);
  const ENetPeer& p = *peer;
  double values[] = {
      static_cast<double>(p.packetLoss), static_cast<double>(p.packetLossVariance),
      static_cast<double>(p.packetLossEpoch), static_cast<double>(p.roundTripTime),
      static_cast<double>(p.roundTripTimeVariance), static_cast<double>(p.lastRoundTripTime),
      static_cast<double>(p.lastRoundTripTimeVariance), static_cast<double>(p.packetThrottle),
      static_cast<double>(p.packetThrottleLimit), static_cast<double>(p.packetThrottleCounter),
      static_cast<double>(p.packetThrottleEpoch), static_cast<double>(p.packetThrottleAcceleration),
      static_cast<double>(p.packetThrottleDeceleration), static_cast<double>(p.packetThrottleInterval),
      static_cast<double>(p.totalPacketsSent), static_cast<double>(p.totalPacketsLost),
      static_cast<double>(p.totalDataSent), static_cast<double>(p.totalDataReceived),
      static_cast<double>(p.mtu),
  };
  uint32_t which = U32(info, 2);
  if (which >= sizeof values / sizeof values[0]) return Napi::Number::New(env, -1);
  return Napi::Number::New(env, values[which]);
}

Napi::Value HostWrap::PeerState(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Stale(info.Env());
  return Napi::Number::New(info.Env(), peer->state);
}

Napi::Value HostWrap::PeerAddress(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Napi::String::New(info.Env(), "");
  char text[64];
  godot_enet_format_address(peer->address.host.s6_addr, text, sizeof text);
  return Napi::String::New(info.Env(), text);
}

Napi::Value HostWrap::PeerPort(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  return Napi::Number::New(info.Env(), peer == nullptr ? 0 : peer->address.port);
}

Napi::Value HostWrap::PeerChannels(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  return Napi::Number::New(info.Env(), peer == nullptr ? 0 : static_cast<double>(peer->channelCount));
}

// peerQueuedBytes(slot, gen) -> bytes of this peer's packets ENet still holds (see HostWrap::ledgers_)
Napi::Value HostWrap::PeerQueuedBytes(const Napi::CallbackInfo& info) {
  ENetPeer* peer = PeerAt(info);
  if (peer == nullptr) return Napi::Number::New(info.Env(), 0);
  return Napi::Number::New(info.Env(), static_cast<double>(ledgers_[peer - host_->peers].queued));
}

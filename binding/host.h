// HostWrap: the JS handle of one ENetHost (Godot's ENetConnection).
//
// ENet keeps its peers in an array inside the host, so a peer is addressed by its slot in that array
// plus a generation number that changes whenever the connection in the slot ends. A stale handle
// (the TS ENetPacketPeer of a connection that is over) can therefore never act on whoever occupies
// the slot next. Peer methods live in peer.cc.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "watcher.h"

extern "C" {
#include "enet.h"
}
#include "dtls_layer.h"


class HostWrap : public Napi::ObjectWrap<HostWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit HostWrap(const Napi::CallbackInfo& info);
  ~HostWrap() override;

  // Layout of one event record in the shared Int32Array the TS side reads.
  // type, slot, generation, data, channel, packet flags, then where the packet's bytes are:
  // index in the packets array (0 = the arena of small packets), byte offset, length.
  static constexpr int kEventFields = 9;
  // Event types in records; 1..3 are ENet's (and Godot's) CONNECT, DISCONNECT, RECEIVE.
  static constexpr int kEventDisconnectTimeout = 4;
  // Godot's EVENT_ERROR: a DTLS client's handshake or session failed (dtlsError() says why).
  static constexpr int kEventError = -1;

  // Peer method results that are not ENet's own.
  static constexpr int kStalePeer = -2;
  static constexpr int kBadChannel = -3;

  // Layout of one staged send in the shared Int32Array (see CommitSends): slot, generation, channel,
  // flags, then the packet's byte offset and length in the shared staging bytes.
  static constexpr int kSendFields = 6;

 private:
  // host.cc
  Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Service(const Napi::CallbackInfo& info);
  Napi::Value CheckEvents(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value BandwidthLimit(const Napi::CallbackInfo& info);
  Napi::Value ChannelLimit(const Napi::CallbackInfo& info);
  Napi::Value Broadcast(const Napi::CallbackInfo& info);
  Napi::Value Compress(const Napi::CallbackInfo& info);
  Napi::Value PopStatistic(const Napi::CallbackInfo& info);
  Napi::Value MaxChannels(const Napi::CallbackInfo& info);
  Napi::Value LocalPort(const Napi::CallbackInfo& info);
  Napi::Value SocketSend(const Napi::CallbackInfo& info);
  Napi::Value Generation(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Watch(const Napi::CallbackInfo& info);
  Napi::Value Unwatch(const Napi::CallbackInfo& info);
  Napi::Value KeepAlive(const Napi::CallbackInfo& info);

  // dtls.cc
  Napi::Value DtlsServerSetup(const Napi::CallbackInfo& info);
  Napi::Value DtlsClientSetup(const Napi::CallbackInfo& info);
  Napi::Value DtlsRefuse(const Napi::CallbackInfo& info);
  Napi::Value DtlsError(const Napi::CallbackInfo& info);
  // Takes over the host's socket, or says why not.
  Napi::Value DtlsAttach(Napi::Env env, GodotENetDtls* dtls, const char* error);
  // The DTLS counters for counters(), or null for a plain host.
  Napi::Value DtlsCounters(Napi::Env env);

  // peer.cc
  Napi::Value PeerSend(const Napi::CallbackInfo& info);
  Napi::Value CommitSends(const Napi::CallbackInfo& info);
  Napi::Value PeersSend(const Napi::CallbackInfo& info);
  Napi::Value PeerDisconnect(const Napi::CallbackInfo& info);
  Napi::Value PeerReset(const Napi::CallbackInfo& info);
  Napi::Value PeerPing(const Napi::CallbackInfo& info);
  Napi::Value PeerPingInterval(const Napi::CallbackInfo& info);
  Napi::Value PeerTimeout(const Napi::CallbackInfo& info);
  Napi::Value PeerThrottleConfigure(const Napi::CallbackInfo& info);
  Napi::Value PeerStatistic(const Napi::CallbackInfo& info);
  Napi::Value PeerState(const Napi::CallbackInfo& info);
  Napi::Value PeerAddress(const Napi::CallbackInfo& info);
  Napi::Value PeerPort(const Napi::CallbackInfo& info);
  Napi::Value PeerChannels(const Napi::CallbackInfo& info);
  Napi::Value PeerQueuedBytes(const Napi::CallbackInfo& info);

  // The peer named by (slot, generation) in info[0], info[1], or nullptr if the handle is stale.
  ENetPeer* PeerAt(const Napi::CallbackInfo& info);
  int SendCopy(ENetPeer* peer, enet_uint8 channel, const uint8_t* bytes, size_t length, enet_uint32 flags);
  // The connection in this slot is over: handles to it become stale.
  void EndConnection(ENetPeer* peer);
  // Tells JS whether ENet would take a send for this peer now (see sendable_).
  void MarkSendable(ENetPeer* peer);
  // Moves ready events into the shared buffer; runs socket I/O first when `timeout` >= 0.
  Napi::Value Drain(Napi::Env env, int timeout);
  void DestroyHost();
  void StopWatching();

  ENetHost* host_ = nullptr;
  std::vector<uint32_t> generation_;
  // Bytes of each slot's packets that ENet still holds: reliable ones until acknowledged, unreliable
  // ones until sent. Our packets point at their slot's entry and subtract themselves when ENet frees
  // them (every one is freed by the time the slot's connection ends, at the latest by the reset).
  struct SendLedger {
    uint64_t queued = 0;
  };
  std::vector<SendLedger> ledgers_;
  Napi::Reference<Napi::Int32Array> eventsRef_;
  Napi::Reference<Napi::Array> packetsRef_;
  int32_t* events_ = nullptr;
  std::vector<ENetPacket*> smallPackets_;  // scratch of Drain
  // Sends staged by JS (records and their bytes), queued into ENet by CommitSends in one call.
  Napi::Reference<Napi::Int32Array> sendRecordsRef_;
  Napi::Reference<Napi::Uint8Array> sendBytesRef_;
  int32_t* sendRecords_ = nullptr;
  size_t sendRecordCapacity_ = 0;
  uint8_t* sendBytes_ = nullptr;
  size_t sendBytesCapacity_ = 0;
  // Per slot: the generation of its connection while ENet's state for it is CONNECTED (a send with a
  // valid channel cannot be refused), else -1. JS stages a send only when it matches, so a staged
  // send's OK is the answer an immediate enet_peer_send would have given. Kept exact by marking every
  // peer whose state may have changed: each drained event's, every peer still in ENet's dispatch queue
  // after a drain (states changed without an event yet), and each one JS connects or disconnects.
  Napi::Reference<Napi::Int32Array> sendableRef_;
  int32_t* sendable_ = nullptr;
  size_t sendableCapacity_ = 0;
  uint64_t stagedSendsRefused_ = 0;  // staged sends ENet refused after all; 0 unless the rule above broke
  size_t eventCapacity_ = 0;
  uint64_t serviceErrors_ = 0;  // negative enet_host_service results, treated as transient
  Watcher* watcher_ = nullptr;
  bool keepAlive_ = true;
  // The DTLS layer of host_'s socket (owned by the socket layer, freed with the socket), or nullptr.
  GodotENetDtls* dtls_ = nullptr;
  std::string dtlsError_;  // the last failure handed over as an EVENT_ERROR record
};

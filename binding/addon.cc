#include "addon.h"

#include <atomic>

#include "dtls_layer.h"
#include "host.h"
#include "socket_layer.h"

namespace {

// enet_initialize/enet_deinitialize are process-wide; environments (main thread, workers) share them.
std::atomic<int> enetUsers{0};

// Parses an IP literal into ENet's 16-byte form (IPv4 as ::ffff:a.b.c.d); null if it is not one.
Napi::Value ParseAddress(const Napi::CallbackInfo& info) {
  std::string text = info[0].As<Napi::String>().Utf8Value();
  uint8_t bytes[16] = {0};
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    bytes[10] = bytes[11] = 0xff;
    memcpy(bytes + 12, &v4, 4);
  } else if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) {
    return info.Env().Null();
  }
  return Napi::Buffer<uint8_t>::Copy(info.Env(), bytes, 16);
}

// Blocking name resolution of any family, as Godot's IP::resolve_hostname.
Napi::Value Resolve(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  uint8_t bytes[16];
  if (godot_enet_resolve(name.c_str(), bytes) != 0) return info.Env().Null();
  return Napi::Buffer<uint8_t>::Copy(info.Env(), bytes, 16);
}

Napi::Value FormatAddress(const Napi::CallbackInfo& info) {
  auto bytes = info[0].As<Napi::Uint8Array>();
  if (bytes.ByteLength() != 16) return Napi::String::New(info.Env(), "");
  char text[64];
  godot_enet_format_address(bytes.Data(), text, sizeof text);
  return Napi::String::New(info.Env(), text);
}

// null when DTLS can run in this process (its Node exports OpenSSL 3), else why not.
Napi::Value DtlsUnavailable(const Napi::CallbackInfo& info) {
  const char* why = godot_enet_dtls_unavailable();
  return why == nullptr ? info.Env().Null() : Napi::String::New(info.Env(), why);
}

// ENet's own values for the enums the TS layer declares, so a test can prove they agree.
Napi::Object EnetConstants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  c["FLAG_RELIABLE"] = static_cast<int>(ENET_PACKET_FLAG_RELIABLE);
  c["FLAG_UNSEQUENCED"] = static_cast<int>(ENET_PACKET_FLAG_UNSEQUENCED);
  c["FLAG_UNRELIABLE_FRAGMENT"] = static_cast<int>(ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT);
  c["PACKET_THROTTLE_SCALE"] = static_cast<int>(ENET_PEER_PACKET_THROTTLE_SCALE);
  c["PACKET_LOSS_SCALE"] = static_cast<int>(ENET_PEER_PACKET_LOSS_SCALE);
  c["STATE_DISCONNECTED"] = static_cast<int>(ENET_PEER_STATE_DISCONNECTED);
  c["STATE_CONNECTING"] = static_cast<int>(ENET_PEER_STATE_CONNECTING);
  c["STATE_ACKNOWLEDGING_CONNECT"] = static_cast<int>(ENET_PEER_STATE_ACKNOWLEDGING_CONNECT);
  c["STATE_CONNECTION_PENDING"] = static_cast<int>(ENET_PEER_STATE_CONNECTION_PENDING);
  c["STATE_CONNECTION_SUCCEEDED"] = static_cast<int>(ENET_PEER_STATE_CONNECTION_SUCCEEDED);
  c["STATE_CONNECTED"] = static_cast<int>(ENET_PEER_STATE_CONNECTED);
  c["STATE_DISCONNECT_LATER"] = static_cast<int>(ENET_PEER_STATE_DISCONNECT_LATER);
  c["STATE_DISCONNECTING"] = static_cast<int>(ENET_PEER_STATE_DISCONNECTING);
  c["STATE_ACKNOWLEDGING_DISCONNECT"] = static_cast<int>(ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT);
  c["STATE_ZOMBIE"] = static_cast<int>(ENET_PEER_STATE_ZOMBIE);
  c["EVENT_NONE"] = static_cast<int>(ENET_EVENT_TYPE_NONE);
  c["EVENT_CONNECT"] = static_cast<int>(ENET_EVENT_TYPE_CONNECT);
  c["EVENT_DISCONNECT"] = static_cast<int>(ENET_EVENT_TYPE_DISCONNECT);
  c["EVENT_RECEIVE"] = static_cast<int>(ENET_EVENT_TYPE_RECEIVE);
  c["HOST_DEFAULT_MTU"] = static_cast<int>(ENET_HOST_DEFAULT_MTU);
  c["PROTOCOL_MAXIMUM_CHANNEL_COUNT"] = static_cast<int>(ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT);
  c["PROTOCOL_MAXIMUM_PEER_ID"] = static_cast<int>(ENET_PROTOCOL_MAXIMUM_PEER_ID);
  c["HOST_DEFAULT_MAXIMUM_PACKET_SIZE"] = static_cast<int>(ENET_HOST_DEFAULT_MAXIMUM_PACKET_SIZE);
  c["PEER_TIMEOUT_LIMIT"] = static_cast<int>(ENET_PEER_TIMEOUT_LIMIT);
  c["PEER_TIMEOUT_MINIMUM"] = static_cast<int>(ENET_PEER_TIMEOUT_MINIMUM);
  c["PEER_TIMEOUT_MAXIMUM"] = static_cast<int>(ENET_PEER_TIMEOUT_MAXIMUM);
  c["PEER_PING_INTERVAL"] = static_cast<int>(ENET_PEER_PING_INTERVAL);
  c["EVENT_FIELDS"] = static_cast<int>(HostWrap::kEventFields);
  c["EVENT_DISCONNECT_TIMEOUT"] = static_cast<int>(HostWrap::kEventDisconnectTimeout);
  c["EVENT_ERROR"] = static_cast<int>(HostWrap::kEventError);
  c["STALE_PEER"] = static_cast<int>(HostWrap::kStalePeer);
  c["BAD_CHANNEL"] = static_cast<int>(HostWrap::kBadChannel);
  return c;
}

}  // namespace

Addon::Addon(Napi::Env env, Napi::Object exports) {
  if (enetUsers.fetch_add(1) == 0 && enet_initialize() != 0) {
    NAPI_THROW_VOID(Napi::Error::New(env, "enet_initialize failed"));
  }
  Napi::Function host = HostWrap::Define(env);
  hostConstructor = Napi::Persistent(host);
  DefineAddon(exports, {
      InstanceValue("Host", host, napi_enumerable),
      InstanceValue("constants", EnetConstants(env), napi_enumerable),
  });
  exports.Set("parseAddress", Napi::Function::New(env, ParseAddress, "parseAddress"));
  exports.Set("resolve", Napi::Function::New(env, Resolve, "resolve"));
  exports.Set("formatAddress", Napi::Function::New(env, FormatAddress, "formatAddress"));
  exports.Set("dtlsUnavailable", Napi::Function::New(env, DtlsUnavailable, "dtlsUnavailable"));
}

Addon::~Addon() {
  if (enetUsers.fetch_sub(1) == 1) enet_deinitialize();
}

NODE_API_ADDON(Addon)

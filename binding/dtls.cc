// HostWrap's DTLS methods: the upgrade of a host's socket to DTLS (deps/enet/dtls_layer.c). The TS side
// (ENetConnection.dtlsServerSetup / dtlsClientSetup) checks Godot's preconditions and turns TLSOptions
// into DER; here they reach the DTLS layer, which takes over the socket's traffic.
#include <vector>

#include "host.h"
#include "socket_layer.h"

namespace {

// Uint8Array[] -> pointers and lengths for the DTLS layer (the arrays stay alive during the call).
bool ReadDerList(const Napi::Value& value, std::vector<const uint8_t*>* data, std::vector<size_t>* lengths) {
  if (!value.IsArray()) return false;
  auto list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsTypedArray() || item.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return false;
    auto bytes = item.As<Napi::Uint8Array>();
    data->push_back(bytes.Data());
    lengths->push_back(bytes.ByteLength());
  }
  return true;
}

// A string argument, or null -> empty optional.
bool ReadOptionalString(const Napi::Value& value, std::string* out, bool* present) {
  *present = value.IsString();
  if (*present) *out = value.As<Napi::String>().Utf8Value();
  return *present || value.IsNull();
}

}  // namespace

Napi::Value HostWrap::DtlsAttach(Napi::Env env, GodotENetDtls* dtls, const char* error) {
  if (dtls == nullptr) return Napi::String::New(env, error);
  if (godot_enet_socket_set_dtls(host_->socket, dtls) != 0) {
    godot_enet_dtls_destroy(dtls, 0);
    return Napi::String::New(env, "the host's socket cannot carry DTLS");
  }
  dtls_ = dtls;
  return env.Null();
}

// dtlsServerSetup(key: Uint8Array (DER), chain: Uint8Array[] (DER, own certificate first)) -> null, or why not
Napi::Value HostWrap::DtlsServerSetup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<const uint8_t*> chain;
  std::vector<size_t> lengths;
  if (!info[0].IsTypedArray() || !ReadDerList(info[1], &chain, &lengths)) {
    Napi::TypeError::New(env, "dtlsServerSetup(key: Uint8Array, chain: Uint8Array[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (host_ == nullptr) return Napi::String::New(env, "no host");
  if (dtls_ != nullptr) return Napi::String::New(env, "the host already uses DTLS");
  auto key = info[0].As<Napi::Uint8Array>();
  char error[256] = "";
  GodotENetDtls* dtls = godot_enet_dtls_server_create(host_->socket, host_->peerCount, key.Data(), key.ByteLength(),
                                                      chain.data(), lengths.data(), chain.size(), error, sizeof error);
  return DtlsAttach(env, dtls, error);
}

// dtlsClientSetup(serverName: string | null (SNI), verifyName: string | null, verifyNameIsIp: boolean,
//                 verifyPeer: boolean, trusted: Uint8Array[] (DER)) -> null, or why not
Napi::Value HostWrap::DtlsClientSetup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string serverName, verifyName;
  bool hasServerName = false, hasVerifyName = false;
  std::vector<const uint8_t*> trusted;
  std::vector<size_t> lengths;
  if (!ReadOptionalString(info[0], &serverName, &hasServerName) || !ReadOptionalString(info[1], &verifyName, &hasVerifyName) ||
      !info[2].IsBoolean() || !info[3].IsBoolean() || !ReadDerList(info[4], &trusted, &lengths)) {
    Napi::TypeError::New(env, "dtlsClientSetup(serverName, verifyName, verifyNameIsIp, verifyPeer, trusted)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (host_ == nullptr) return Napi::String::New(env, "no host");
  if (dtls_ != nullptr) return Napi::String::New(env, "the host already uses DTLS");
  char error[256] = "";
  GodotENetDtls* dtls = godot_enet_dtls_client_create(
      host_->socket, hasServerName ? serverName.c_str() : nullptr, hasVerifyName ? verifyName.c_str() : nullptr,
      info[2].As<Napi::Boolean>().Value(), info[3].As<Napi::Boolean>().Value(), trusted.data(), lengths.data(),
      trusted.size(), error, sizeof error);
  return DtlsAttach(env, dtls, error);
}

// dtlsRefuse(refuse: boolean): a DTLS server starts no new handshake while refusing.
Napi::Value HostWrap::DtlsRefuse(const Napi::CallbackInfo& info) {
  if (dtls_ != nullptr) godot_enet_dtls_refuse_new_connections(dtls_, info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

// dtlsError() -> why the last EVENT_ERROR record was written
Napi::Value HostWrap::DtlsError(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), dtlsError_); }

Napi::Value HostWrap::DtlsCounters(Napi::Env env) {
  if (dtls_ == nullptr) return env.Null();
  const GodotENetDtlsStats* stats = godot_enet_dtls_stats(dtls_);
  Napi::Object result = Napi::Object::New(env);
  result["sessions"] = stats->sessions;
  result["pendingHandshakes"] = stats->pendingHandshakes;
  result["handshakesCompleted"] = static_cast<double>(stats->handshakesCompleted);
  result["handshakesFailed"] = static_cast<double>(stats->handshakesFailed);
  result["helloVerifyRequests"] = static_cast<double>(stats->helloVerifyRequests);
  result["handshakesRefused"] = static_cast<double>(stats->handshakesRefused);
  result["handshakesDeferred"] = static_cast<double>(stats->handshakesDeferred);
  result["sessionsExpired"] = static_cast<double>(stats->sessionsExpired);
  result["sessionsClosed"] = static_cast<double>(stats->sessionsClosed);
  result["invalidDropped"] = static_cast<double>(stats->invalidDropped);
  result["recordsDropped"] = static_cast<double>(stats->recordsDropped);
  return result;
}

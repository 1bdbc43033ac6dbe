// Per-environment addon state: nothing here is static, so the addon loads in worker threads and
// in several environments of one process.
#pragma once
#include <napi.h>

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  Napi::FunctionReference hostConstructor;
};

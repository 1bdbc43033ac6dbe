// Wakes JS when a host needs servicing: when its socket becomes readable (a datagram arrived) and on
// a repeating timer (ENet's retransmits, pings and timeouts). An idle host then costs nothing but the
// timer, and a busy one is serviced as soon as data arrives instead of at the next polling tick.
#pragma once
#include <napi.h>
#include <uv.h>

class Watcher {
 public:
  // Starts watching `socket`; `wake` is called with no arguments from the event loop.
  static Watcher* Start(Napi::Env env, uv_os_sock_t socket, Napi::Function wake, uint32_t intervalMs);
  // Stops and frees the watcher (asynchronously: libuv handles close on the next loop turn).
  void Stop();
  void SetKeepAlive(bool keepAlive);
  void SetInterval(uint32_t intervalMs);

 private:
  Watcher(Napi::Env env, Napi::Function wake);
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  static void OnClosed(uv_handle_t* handle);
  void Wake();

  Napi::Env env_;
  Napi::FunctionReference wake_;
  Napi::AsyncContext context_;
  uv_poll_t poll_;
  uv_timer_t timer_;
  int openHandles_ = 0;
  uint32_t intervalMs_ = 0;
};

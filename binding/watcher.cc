#include "watcher.h"

Watcher::Watcher(Napi::Env env, Napi::Function wake)
    : env_(env), wake_(Napi::Persistent(wake)), context_(env, "godot-enet:wake") {}

Watcher* Watcher::Start(Napi::Env env, uv_os_sock_t socket, Napi::Function wake, uint32_t intervalMs) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return nullptr;
  auto* watcher = new Watcher(env, wake);
  if (uv_poll_init_socket(loop, &watcher->poll_, socket) != 0) {
    delete watcher;
    return nullptr;
  }
  uv_timer_init(loop, &watcher->timer_);
  watcher->openHandles_ = 2;
  uv_handle_set_data(reinterpret_cast<uv_handle_t*>(&watcher->poll_), watcher);
  uv_handle_set_data(reinterpret_cast<uv_handle_t*>(&watcher->timer_), watcher);
  uv_poll_start(&watcher->poll_, UV_READABLE, OnReadable);
  watcher->SetInterval(intervalMs);
  return watcher;
}

void Watcher::SetInterval(uint32_t intervalMs) {
  intervalMs_ = intervalMs == 0 ? 1 : intervalMs;
  uv_timer_start(&timer_, OnTimer, intervalMs_, intervalMs_);
}

void Watcher::SetKeepAlive(bool keepAlive) {
  auto* poll = reinterpret_cast<uv_handle_t*>(&poll_);
  auto* timer = reinterpret_cast<uv_handle_t*>(&timer_);
  if (keepAlive) {
    uv_ref(poll);
    uv_ref(timer);
  } else {
    uv_unref(poll);
    uv_unref(timer);
  }
}

void Watcher::Stop() {
  uv_poll_stop(&poll_);
  uv_timer_stop(&timer_);
  wake_.Reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnClosed);
}

void Watcher::OnClosed(uv_handle_t* handle) {
  auto* watcher = static_cast<Watcher*>(uv_handle_get_data(handle));
  if (--watcher->openHandles_ == 0) delete watcher;
}

void Watcher::OnReadable(uv_poll_t* handle, int, int) {
  static_cast<Watcher*>(uv_handle_get_data(reinterpret_cast<uv_handle_t*>(handle)))->Wake();
}

void Watcher::OnTimer(uv_timer_t* handle) {
  static_cast<Watcher*>(uv_handle_get_data(reinterpret_cast<uv_handle_t*>(handle)))->Wake();
}

void Watcher::Wake() {
  if (wake_.IsEmpty()) return;
  Napi::HandleScope scope(env_);
  // MakeCallback, not Call: it runs process.nextTick and microtasks afterwards, like any other
  // event-loop callback. An exception from the handler goes to 'uncaughtException', as it would
  // from a timer: there is no JS caller here to receive it.
  wake_.MakeCallback(env_.Global(), {}, context_);
  if (env_.IsExceptionPending()) {
    Napi::Error error = env_.GetAndClearPendingException();
    napi_fatal_exception(env_, error.Value());
  }
}

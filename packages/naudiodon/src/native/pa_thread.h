// Owns the one thread that makes every PortAudio call except the stream callback, and the
// promise plumbing that brings each call's result back to JavaScript.
//
// PortAudio is not thread-safe: Pa_Initialize/Pa_Terminate keep a plain counter and the host
// APIs' device lists are global. Every listing, open, start, abort, close and terminate of every
// JavaScript thread (main and workers alike) runs here, one after another, so a device scan can
// never overlap a close that is still tearing down a lost device. Nothing runs on the libuv
// thread pool, so a close stuck in ALSA does not starve file I/O.
#ifndef AUDEX_PA_THREAD_H
#define AUDEX_PA_THREAD_H

#include <node_api.h>

#include <pthread.h>
#include <time.h>

#include <functional>
#include <string>

namespace audex {

// Runs `job` on the PortAudio thread after every job queued before it.
void runOnPaThread(std::function<void()> job);

// Runs `work` on the PortAudio thread, then `done` on the JavaScript thread of `env`; returns a
// promise that `done` settles: it returns the resolution value, or sets `error` to reject with an
// Error of that message. If the environment is gone before `done` can run, `abandoned` runs on
// the PortAudio thread instead (to release what `work` acquired).
napi_value paPromise(napi_env env, const char *name, std::function<void()> work,
                     std::function<napi_value(napi_env, std::string &error)> done,
                     std::function<void()> abandoned = nullptr);

// A one-shot event: one thread set()s it, another wait()s for it at most some milliseconds.
// set() returns false when the waiter had already given up.
class Signal {
 public:
  Signal();
  ~Signal();
  Signal(const Signal &) = delete;
  Signal &operator=(const Signal &) = delete;
  bool set();
  bool wait(int ms);  // true when set() came in time

 private:
  pthread_mutex_t mutex_;
  pthread_cond_t cond_;
  bool done_ = false;
  bool gaveUp_ = false;
};

}  // namespace audex

#endif

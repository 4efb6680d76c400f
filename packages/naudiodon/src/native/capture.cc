// Owns one open PortAudio input stream (see capture.h).
//
// The callback runs on PortAudio's audio thread and never allocates, locks or waits: it copies
// into the preallocated ring (or counts the frames as dropped), publishes counters with atomics,
// and wakes JavaScript with uv_async_send (an atomic flag and, at most once per wake, a write to
// an eventfd) once `wakeFrames` frames are waiting or something happened.
#include "compat.h"

#include "capture.h"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "pa_thread.h"
#include "quiet.h"

namespace audex {

static_assert(std::atomic<double>::is_always_lock_free, "the callback needs lock-free doubles");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "the callback needs lock-free 64-bit counters");

namespace {

double monotonicMs() {
#if defined(CLOCK_MONOTONIC)
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
#else
  return uv_hrtime() / 1e6;
#endif
}

}  // namespace

Capture::Capture(napi_env e, const CaptureOptions &options)
    : env(e),
      mOptions(options),
      mBytesPerFrame(options.channels * options.bytesPerSample),
      mRingBytes((size_t)options.ringFrames * options.channels * options.bytesPerSample),
      mRing(new uint8_t[mRingBytes]()) {
  mWakeFrames.store(options.wakeFrames ? options.wakeFrames : 1, std::memory_order_relaxed);
  for (uint32_t i = 0; i < kTimings; ++i) {
    mTimingMs[i].store(0, std::memory_order_relaxed);
    mTimingFrames[i].store(0, std::memory_order_relaxed);
  }
}

Capture::~Capture() { delete[] mRing; }

bool Capture::open(std::string &error) {
  PaError err = Pa_Initialize();
  if (err != paNoError) {
    error = std::string("cannot initialise PortAudio: ") + Pa_GetErrorText(err);
    return false;
  }
  mInitialized = true;
  // The device scan is done: what the diagnostics hold from here on is what opening said.
  clearDiagnostics();
  const PaDeviceInfo *info = mOptions.deviceId >= 0 && mOptions.deviceId < Pa_GetDeviceCount()
                                 ? Pa_GetDeviceInfo(mOptions.deviceId)
                                 : nullptr;
  if (info == nullptr || info->maxInputChannels <= 0) {
    error = "deviceId " + std::to_string(mOptions.deviceId) + " is not an input device (PortAudio has " +
            std::to_string(Pa_GetDeviceCount()) + " devices)";
    close();
    return false;
  }
  if (mOptions.channels > info->maxInputChannels) {
    error = "channels " + std::to_string(mOptions.channels) + " is more than device " +
            std::to_string(mOptions.deviceId) + " has (" + std::to_string(info->maxInputChannels) + ")";
    close();
    return false;
  }
  PaStreamParameters params;
  memset(&params, 0, sizeof params);
  params.device = mOptions.deviceId;
  params.channelCount = mOptions.channels;
  params.sampleFormat = mOptions.format;
  // The default LOW latency asks ALSA (and the pulse plugin) for tiny buffers that overrun:
  // capture wants safety over latency, so the default is the device's HIGH input latency.
  params.suggestedLatency =
      mOptions.suggestedLatencySeconds > 0 ? mOptions.suggestedLatencySeconds : info->defaultHighInputLatency;
  params.hostApiSpecificStreamInfo = nullptr;
  err = Pa_IsFormatSupported(&params, nullptr, mOptions.sampleRate);
  if (err != paFormatIsSupported) {
    error = std::string("format not supported: ") + Pa_GetErrorText(err);
    close();
    return false;
  }
  err = Pa_OpenStream(&mStream, &params, nullptr, mOptions.sampleRate,
                      mOptions.framesPerBuffer ? mOptions.framesPerBuffer : paFramesPerBufferUnspecified, paNoFlag,
                      &Capture::paCallback, this);
  if (err != paNoError) {
    mStream = nullptr;
    error = std::string("cannot open the stream: ") + Pa_GetErrorText(err);
    close();
    return false;
  }
  Pa_SetStreamFinishedCallback(mStream, &Capture::paFinished);
  if (const PaStreamInfo *si = Pa_GetStreamInfo(mStream))
    mLatencySeconds.store(si->inputLatency, std::memory_order_release);
  mWakeAllowed.store(true, std::memory_order_release);
  err = Pa_StartStream(mStream);
  if (err != paNoError) {
    error = std::string("cannot start the stream: ") + Pa_GetErrorText(err);
    close();
    return false;
  }
  return true;
}

bool Capture::close() {
  if (mAbandoned) return false;
  if (mStream) {
    // Pa_AbortStream joins PortAudio's audio thread, and that join can hang for good: when the
    // PulseAudio server dies, libpulse's mainloop thread waits (holding its lock) for a memory
    // block the pulse ALSA plugin never releases, while the audio thread waits for that lock in
    // snd_pcm_status (seen here on SIGKILL of the daemon, ~1 in 6). So the abort runs on a helper
    // thread and this thread waits for it at most kAbortWaitMs. If it does not finish, the stream
    // is abandoned: it stays open (and PortAudio stays initialised, so Pa_Terminate never tries
    // to close it again), later jobs go on, and if the abort ever returns the helper queues the
    // rest of the close behind them.
    struct Abort {
      PaStream *stream = nullptr;
      Signal done;
    };
    Abort *abort = new Abort();
    abort->stream = mStream;
    pthread_t helper;
    if (pthread_create(&helper, nullptr,
                       [](void *arg) -> void * {
                         Abort *a = static_cast<Abort *>(arg);
                         Pa_AbortStream(a->stream);
                         if (!a->done.set()) {
                           // the PortAudio thread gave up on us: finish the close behind later jobs
                           PaStream *stream = a->stream;
                           delete a;
                           runOnPaThread([stream] {
                             Pa_CloseStream(stream);
                             Pa_Terminate();
                           });
                         }
                         return nullptr;
                       },
                       abort) != 0) {
      delete abort;
      Pa_AbortStream(mStream);  // no helper thread to be had: wait here
    } else {
      pthread_detach(helper);
      if (!abort->done.wait(kAbortWaitMs)) {
        mAbandoned = true;
        return false;
      }
      delete abort;
    }
    Pa_CloseStream(mStream);
    mStream = nullptr;
  }
  if (mInitialized) {
    Pa_Terminate();
    mInitialized = false;
  }
  return true;
}

int Capture::paCallback(const void *input, void *, unsigned long frames, const PaStreamCallbackTimeInfo *,
                        PaStreamCallbackFlags flags, void *user) {
  return static_cast<Capture *>(user)->onAudio(input, frames, flags);
}

void Capture::paFinished(void *user) {
  Capture *self = static_cast<Capture *>(user);
  self->mFinished.store(true, std::memory_order_release);
  self->wake();
}

void Capture::wake() {
  if (!mWakeAllowed.load(std::memory_order_acquire)) return;
  if (uv_async_t *handle = mAsync.load(std::memory_order_acquire)) uv_async_send(handle);
}

int Capture::onAudio(const void *input, unsigned long frames, PaStreamCallbackFlags flags) {
  const double now = monotonicMs();
  const uint64_t bytes = (uint64_t)frames * mBytesPerFrame;
  const uint64_t cap = mRingBytes;
  const uint64_t w = mWrite.load(std::memory_order_relaxed);
  const uint64_t r = mRead.load(std::memory_order_acquire);
  if (mDropping && r == w) mDropping = false;
  const bool fits = input != nullptr && !mDropping && cap - (w - r) >= bytes;
  if (fits) {
    // Fill the ring first; it is published with the write position below.
    const uint64_t pos = w % cap;
    const uint64_t first = std::min<uint64_t>(bytes, cap - pos);
    memcpy(&mRing[pos], input, first);
    if (bytes > first) memcpy(&mRing[0], static_cast<const uint8_t *>(input) + first, bytes - first);
  } else {
    mDropping = true;
  }
  const uint64_t total = mFrames.load(std::memory_order_relaxed) + frames;
  const uint64_t seq = mSeq.load(std::memory_order_relaxed);
  mSeq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  if (fits) mWrite.store(w + bytes, std::memory_order_relaxed);
  else mDropped.store(mDropped.load(std::memory_order_relaxed) + frames, std::memory_order_relaxed);
  if (flags & paInputOverflow) mOverflows.store(mOverflows.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  mFrames.store(total, std::memory_order_relaxed);
  mCallbacks.store(mCallbacks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  mSeq.store(seq + 2, std::memory_order_release);

  const uint64_t tw = mTimingWrite.load(std::memory_order_relaxed);
  if (tw - mTimingRead.load(std::memory_order_acquire) < kTimings) {
    mTimingMs[tw % kTimings].store(now, std::memory_order_relaxed);
    mTimingFrames[tw % kTimings].store((double)total, std::memory_order_relaxed);
    mTimingWrite.store(tw + 1, std::memory_order_release);
  }

  const uint64_t waiting = (fits ? w + bytes - r : w - r) / mBytesPerFrame;
  if (!fits || (flags & paInputOverflow) || waiting >= mWakeFrames.load(std::memory_order_relaxed)) wake();
  return paContinue;
}

bool Capture::initWake(napi_value onWake) {
  uv_loop_t *loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return false;
  uv_async_t *handle = new uv_async_t();
  if (uv_async_init(loop, handle, &Capture::onAsync) != 0) {
    delete handle;
    return false;
  }
  handle->data = this;
  mAsync.store(handle, std::memory_order_release);
  napi_value name;
  if (napi_create_reference(env, onWake, 1, &mOnWake) != napi_ok ||
      napi_create_string_utf8(env, "audex.naudiodon.wake", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, nullptr, name, &mAsyncContext) != napi_ok) {
    closeWake();
    return false;
  }
  return true;
}

void Capture::closeWake(bool freeHandle) {
  mWakeAllowed.store(false, std::memory_order_release);
  if (uv_async_t *handle = mAsync.exchange(nullptr, std::memory_order_acq_rel)) {
    if (freeHandle)
      uv_close(reinterpret_cast<uv_handle_t *>(handle), [](uv_handle_t *h) { delete reinterpret_cast<uv_async_t *>(h); });
    else
      uv_close(reinterpret_cast<uv_handle_t *>(handle), nullptr);
  }
  if (mOnWake) {
    napi_delete_reference(env, mOnWake);
    mOnWake = nullptr;
  }
  if (mAsyncContext) {
    napi_async_destroy(env, mAsyncContext);
    mAsyncContext = nullptr;
  }
}

void Capture::onAsync(uv_async_t *handle) {
  Capture *self = static_cast<Capture *>(handle->data);
  if (self->mOnWake == nullptr || (self->jsState != JsState::Open && self->jsState != JsState::Closing)) return;
  napi_env env = self->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, self->mOnWake, &fn) == napi_ok && fn != nullptr &&
      napi_get_global(env, &recv) == napi_ok) {
    if (napi_make_callback(env, self->mAsyncContext, recv, fn, 0, nullptr, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exception;
        napi_get_and_clear_last_exception(env, &exception);
        napi_fatal_exception(env, exception);
      }
    }
  }
  napi_close_handle_scope(env, scope);
}

napi_value Capture::read(napi_env env, napi_value stateValue, napi_value timingsValue, uint32_t nextWakeFrames) {
  napi_typedarray_type type;
  size_t stateLength = 0, timingsLength = 0;
  void *stateData = nullptr, *timingsData = nullptr;
  if (napi_get_typedarray_info(env, stateValue, &type, &stateLength, &stateData, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || stateLength < kStateLength ||
      napi_get_typedarray_info(env, timingsValue, &type, &timingsLength, &timingsData, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array) {
    napi_throw_type_error(env, nullptr,
                          "[audex/naudiodon] read(state, timings, nextWakeFrames) takes a Float64Array of at least 6 "
                          "elements and a Float64Array");
    return nullptr;
  }
  double *state = static_cast<double *>(stateData);
  double *timings = static_cast<double *>(timingsData);

  // A consistent snapshot of the write position and the counters.
  uint64_t w, frames, dropped, overflows, callbacks;
  for (;;) {
    const uint64_t s1 = mSeq.load(std::memory_order_acquire);
    w = mWrite.load(std::memory_order_relaxed);
    frames = mFrames.load(std::memory_order_relaxed);
    dropped = mDropped.load(std::memory_order_relaxed);
    overflows = mOverflows.load(std::memory_order_relaxed);
    callbacks = mCallbacks.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (!(s1 & 1) && mSeq.load(std::memory_order_relaxed) == s1) break;
  }
  const bool finished = mFinished.load(std::memory_order_acquire);

  const uint64_t tr = mTimingRead.load(std::memory_order_relaxed);
  const uint64_t tw = mTimingWrite.load(std::memory_order_acquire);
  const uint64_t room = timingsLength / 2;
  uint64_t nt = std::min<uint64_t>(tw - tr, room);
  // keep the newest readings when there are more than fit
  const uint64_t tFrom = tw - nt;
  for (uint64_t i = 0; i < nt; ++i) {
    timings[2 * i] = mTimingMs[(tFrom + i) % kTimings].load(std::memory_order_relaxed);
    timings[2 * i + 1] = mTimingFrames[(tFrom + i) % kTimings].load(std::memory_order_relaxed);
  }
  mTimingRead.store(tw, std::memory_order_release);

  const uint64_t r = mRead.load(std::memory_order_relaxed);
  const uint64_t n = w - r;
  napi_value result;
  if (n == 0) {
    napi_get_null(env, &result);
  } else {
    void *out = nullptr;
    if (napi_create_buffer(env, n, &out, &result) != napi_ok) return nullptr;
    const uint64_t cap = mRingBytes;
    const uint64_t pos = r % cap;
    const uint64_t first = std::min<uint64_t>(n, cap - pos);
    memcpy(out, &mRing[pos], first);
    if (n > first) memcpy(static_cast<uint8_t *>(out) + first, &mRing[0], n - first);
    mRead.store(w, std::memory_order_release);
  }
  mWakeFrames.store(nextWakeFrames ? nextWakeFrames : 1, std::memory_order_relaxed);

  state[kStateFrames] = (double)frames;
  state[kStateDropped] = (double)dropped;
  state[kStateOverflows] = (double)overflows;
  state[kStateCallbacks] = (double)callbacks;
  state[kStateFinished] = finished ? 1 : 0;
  state[kStateTimings] = (double)nt;
  return result;
}

}  // namespace audex

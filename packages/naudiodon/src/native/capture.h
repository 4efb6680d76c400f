// Owns one open PortAudio input stream: the lock-free ring its callback fills, the counters and
// callback times it publishes, and the wake-up of JavaScript when enough audio is waiting.
#ifndef AUDEX_CAPTURE_H
#define AUDEX_CAPTURE_H

#include <node_api.h>
#include <portaudio.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace audex {

// Indices of the Float64Array that read() fills.
enum StateIndex : uint32_t {
  kStateFrames = 0,     // device frames delivered so far, dropped ones included
  kStateDropped = 1,    // frames dropped because the ring was full (JavaScript fell behind)
  kStateOverflows = 2,  // callbacks PortAudio flagged paInputOverflow
  kStateCallbacks = 3,  // callbacks so far
  kStateFinished = 4,   // 1 once PortAudio reported the stream finished (e.g. the device failed)
  kStateTimings = 5,    // callback readings written to the timings array by this read()
  kStateLength = 6,
};

struct CaptureOptions {
  int deviceId = -1;
  int channels = 1;
  PaSampleFormat format = paInt16;
  uint32_t bytesPerSample = 2;
  double sampleRate = 48000;
  uint32_t framesPerBuffer = 0;
  uint32_t ringFrames = 0;
  double suggestedLatencySeconds = 0;  // 0 = the device's default high input latency
  uint32_t wakeFrames = 1;
};

class Capture {
 public:
  // JavaScript-thread lifecycle.
  enum class JsState { Opening, Open, Closing, Closed, Leaked };

  Capture(napi_env env, const CaptureOptions &options);
  ~Capture();

  // --- PortAudio thread ---
  // Pa_Initialize + open + start; on failure everything is undone and `error` says why.
  bool open(std::string &error);
  // Abort + close + Pa_Terminate (idempotent). Returns false when the abort did not finish within
  // kAbortWaitMs: the stream is then abandoned (see close() in capture.cc) and this object must
  // stay allocated for the life of the process.
  bool close();
  static constexpr int kAbortWaitMs = 2000;

  // --- JavaScript thread ---
  bool initWake(napi_value onWake);  // uv_async handle + async context; false on failure
  // After close(): no callback can wake any more. `freeHandle` false leaves the handle's memory
  // allocated (for a stream whose close did not finish: its callback might still touch it).
  void closeWake(bool freeHandle = true);
  napi_value read(napi_env env, napi_value state, napi_value timings, uint32_t nextWakeFrames);
  void setWakeFrames(uint32_t frames) { mWakeFrames.store(frames ? frames : 1, std::memory_order_relaxed); }
  double latencyMs() const { return mLatencySeconds.load(std::memory_order_acquire) * 1000.0; }
  const CaptureOptions &options() const { return mOptions; }

  napi_env env;
  JsState jsState = JsState::Opening;
  napi_ref self = nullptr;  // strong reference to the JS object while the stream is open

 private:
  static int paCallback(const void *input, void *output, unsigned long frames,
                        const PaStreamCallbackTimeInfo *time, PaStreamCallbackFlags flags, void *user);
  static void paFinished(void *user);
  static void onAsync(uv_async_t *handle);
  int onAudio(const void *input, unsigned long frames, PaStreamCallbackFlags flags);
  void wake();

  const CaptureOptions mOptions;
  const uint32_t mBytesPerFrame;

  // PortAudio thread only.
  PaStream *mStream = nullptr;
  bool mInitialized = false;
  bool mAbandoned = false;

  // Audio thread only.
  bool mDropping = false;  // after a drop, nothing is written until JavaScript has read everything

  // Single producer (the callback), single consumer (read() on the JavaScript thread).
  const size_t mRingBytes;
  uint8_t *const mRing;
  std::atomic<uint64_t> mWrite{0};  // bytes ever written (published under mSeq)
  std::atomic<uint64_t> mRead{0};   // bytes ever read
  // A seqlock over the counters so that read() sees the write position and the drop count of the
  // same instant: odd while the callback updates them.
  std::atomic<uint64_t> mSeq{0};
  std::atomic<uint64_t> mFrames{0};
  std::atomic<uint64_t> mDropped{0};
  std::atomic<uint64_t> mOverflows{0};
  std::atomic<uint64_t> mCallbacks{0};
  std::atomic<bool> mFinished{false};
  std::atomic<uint32_t> mWakeFrames{1};
  std::atomic<bool> mWakeAllowed{false};
  std::atomic<double> mLatencySeconds{0};

  // Callback readings (CLOCK_MONOTONIC ms, device frames after the callback), single producer /
  // single consumer; a reading that does not fit is skipped (the clock needs only some of them).
  static constexpr uint32_t kTimings = 256;
  std::atomic<double> mTimingMs[kTimings];
  std::atomic<double> mTimingFrames[kTimings];
  std::atomic<uint64_t> mTimingWrite{0};
  std::atomic<uint64_t> mTimingRead{0};

  // JavaScript thread only.
  std::atomic<uv_async_t *> mAsync{nullptr};  // read by the callback, set on the JavaScript thread
  napi_ref mOnWake = nullptr;
  napi_async_context mAsyncContext = nullptr;
};

}  // namespace audex

#endif

// Owns the module's JavaScript surface: listDevices(), openInput() and the input stream object
// (read, close), diagnostics(), and the environment teardown that closes what is left open.
#include "compat.h"

#include <node_api.h>
#include <portaudio.h>

#include <string>
#include <vector>

#include "capture.h"
#include "pa_thread.h"
#include "quiet.h"

namespace audex {

namespace {

#define THROW_IF(cond, msg)                                  \
  do {                                                       \
    if (cond) {                                              \
      napi_throw_error(env, nullptr, "[audex/naudiodon] " msg); \
      return nullptr;                                        \
    }                                                        \
  } while (0)

napi_status setNumber(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  napi_status s = napi_create_double(env, value, &v);
  return s == napi_ok ? napi_set_named_property(env, obj, key, v) : s;
}

napi_status setString(napi_env env, napi_value obj, const char *key, const std::string &value) {
  napi_value v;
  napi_status s = napi_create_string_utf8(env, value.c_str(), value.size(), &v);
  return s == napi_ok ? napi_set_named_property(env, obj, key, v) : s;
}

// ---------------------------------------------------------------------------------------------
// listDevices(): Promise<{ version, defaultInput, defaultHostApi, hostApis, devices }>

struct DeviceInfo {
  int id;
  std::string name, hostApi;
  int maxInputChannels, maxOutputChannels;
  double defaultSampleRate, defaultLowInputLatency, defaultHighInputLatency;
};
struct HostApiInfo {
  int id;
  std::string name;
  int defaultInput;
};
struct Listing {
  std::string error, version;
  int defaultInput = -1, defaultHostApi = -1;
  std::vector<HostApiInfo> hostApis;
  std::vector<DeviceInfo> devices;
};

napi_value ListDevices(napi_env env, napi_callback_info) {
  Listing *listing = new Listing();  // freed by done (leaked if the environment goes first)
  return paPromise(
      env, "audex.naudiodon.listDevices",
      [listing] {
        PaError err = Pa_Initialize();
        if (err != paNoError) {
          listing->error = std::string("[audex/naudiodon] cannot initialise PortAudio: ") + Pa_GetErrorText(err);
          return;
        }
        listing->version = Pa_GetVersionText();
        listing->defaultInput = Pa_GetDefaultInputDevice();
        listing->defaultHostApi = Pa_GetDefaultHostApi();
        for (PaHostApiIndex i = 0; i < Pa_GetHostApiCount(); ++i) {
          const PaHostApiInfo *h = Pa_GetHostApiInfo(i);
          if (h) listing->hostApis.push_back({i, h->name ? h->name : "", h->defaultInputDevice});
        }
        for (PaDeviceIndex i = 0; i < Pa_GetDeviceCount(); ++i) {
          const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
          if (!d) continue;
          const PaHostApiInfo *h = Pa_GetHostApiInfo(d->hostApi);
          listing->devices.push_back({i, d->name ? d->name : "", h && h->name ? h->name : "", d->maxInputChannels,
                                      d->maxOutputChannels, d->defaultSampleRate, d->defaultLowInputLatency,
                                      d->defaultHighInputLatency});
        }
        Pa_Terminate();
      },
      [listing](napi_env env, std::string &error) -> napi_value {
        struct Free {
          Listing *l;
          ~Free() { delete l; }
        } owned{listing};
        if (!listing->error.empty()) {
          error = listing->error;
          return nullptr;
        }
        napi_value result, apis, devices;
        if (napi_create_object(env, &result) != napi_ok || napi_create_array(env, &apis) != napi_ok ||
            napi_create_array(env, &devices) != napi_ok)
          return nullptr;
        setString(env, result, "version", listing->version);
        setNumber(env, result, "defaultInput", listing->defaultInput);
        setNumber(env, result, "defaultHostApi", listing->defaultHostApi);
        for (uint32_t i = 0; i < listing->hostApis.size(); ++i) {
          const HostApiInfo &h = listing->hostApis[i];
          napi_value o;
          napi_create_object(env, &o);
          setNumber(env, o, "id", h.id);
          setString(env, o, "name", h.name);
          setNumber(env, o, "defaultInput", h.defaultInput);
          napi_set_element(env, apis, i, o);
        }
        for (uint32_t i = 0; i < listing->devices.size(); ++i) {
          const DeviceInfo &d = listing->devices[i];
          napi_value o;
          napi_create_object(env, &o);
          setNumber(env, o, "id", d.id);
          setString(env, o, "name", d.name);
          setString(env, o, "hostApi", d.hostApi);
          setNumber(env, o, "maxInputChannels", d.maxInputChannels);
          setNumber(env, o, "maxOutputChannels", d.maxOutputChannels);
          setNumber(env, o, "defaultSampleRate", d.defaultSampleRate);
          setNumber(env, o, "defaultLowInputLatency", d.defaultLowInputLatency);
          setNumber(env, o, "defaultHighInputLatency", d.defaultHighInputLatency);
          napi_set_element(env, devices, i, o);
        }
        napi_set_named_property(env, result, "hostApis", apis);
        napi_set_named_property(env, result, "devices", devices);
        return result;
      });
}

// ---------------------------------------------------------------------------------------------
// Teardown: a worker (or the main thread) that exits with a stream open or closing.

void envCleanup(void *arg) {
  Capture *c = static_cast<Capture *>(arg);
  if (c->jsState == Capture::JsState::Closed || c->jsState == Capture::JsState::Leaked) return;
  // Queued after any open/close of this stream still pending on the PortAudio thread.
  struct Done {
    Signal signal;
    bool closed = false;
  };
  Done *done = new Done();
  runOnPaThread([c, done] {
    done->closed = c->close();
    if (!done->signal.set()) delete done;  // the waiter gave up
  });
  const bool signalled = done->signal.wait(Capture::kAbortWaitMs + 1000);
  const bool closed = signalled && done->closed;
  if (signalled) delete done;
  c->closeWake(/*freeHandle*/ closed);
  if (c->self) {
    napi_delete_reference(c->env, c->self);
    c->self = nullptr;
  }
  c->jsState = closed ? Capture::JsState::Closed : Capture::JsState::Leaked;
}

Capture *unwrapThis(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = nullptr;
  if (napi_get_cb_info(env, info, argc, argv, &self, nullptr) != napi_ok) return nullptr;
  if (napi_unwrap(env, self, &data) != napi_ok || data == nullptr) {
    napi_throw_type_error(env, nullptr, "[audex/naudiodon] not an input stream");
    return nullptr;
  }
  return static_cast<Capture *>(data);
}

// stream.read(state: Float64Array, timings: Float64Array, nextWakeFrames: number): Buffer | null
napi_value StreamRead(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  Capture *c = unwrapThis(env, info, &argc, argv);
  if (!c) return nullptr;
  THROW_IF(argc < 3, "read(state, timings, nextWakeFrames) takes 3 arguments");
  uint32_t next = 1;
  THROW_IF(napi_get_value_uint32(env, argv[2], &next) != napi_ok, "read(): nextWakeFrames must be a number of frames");
  return c->read(env, argv[0], argv[1], next);
}

// stream.setWakeFrames(frames: number): void — the next wake-up comes once that many frames wait.
napi_value StreamSetWakeFrames(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Capture *c = unwrapThis(env, info, &argc, argv);
  if (!c) return nullptr;
  uint32_t frames = 1;
  THROW_IF(argc < 1 || napi_get_value_uint32(env, argv[0], &frames) != napi_ok,
           "setWakeFrames(frames) takes a number of frames");
  c->setWakeFrames(frames);
  return nullptr;
}

// stream.close(): Promise<boolean>; aborts and closes the stream on the PortAudio thread; false when
// the abort hung and the stream was abandoned (see Capture::close). Resolves at once when the
// stream is not open (closing twice is the caller's business: the JS wrapper
// hands out one promise).
napi_value StreamClose(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Capture *c = unwrapThis(env, info, &argc, nullptr);
  if (!c) return nullptr;
  if (c->jsState != Capture::JsState::Open) {
    napi_deferred deferred;
    napi_value promise, undefined;
    napi_create_promise(env, &deferred, &promise);
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, deferred, undefined);
    return promise;
  }
  c->jsState = Capture::JsState::Closing;
  bool *closed = new bool(false);
  return paPromise(
      env, "audex.naudiodon.close", [c, closed] { *closed = c->close(); },
      [c, closed](napi_env env, std::string &) -> napi_value {
        struct Free {
          bool *b;
          ~Free() { delete b; }
        } owned{closed};
        if (c->jsState == Capture::JsState::Closing) {
          // An abandoned stream (its abort hung) keeps its memory: its callback may still run.
          c->closeWake(/*freeHandle*/ *closed);
          napi_remove_env_cleanup_hook(env, envCleanup, c);
          if (c->self) {
            napi_delete_reference(env, c->self);
            c->self = nullptr;
          }
          c->jsState = *closed ? Capture::JsState::Closed : Capture::JsState::Leaked;
        }
        napi_value result;
        napi_get_boolean(env, *closed, &result);
        return result;
      });
}

void finalizeStream(napi_env, void *data, void *) {
  Capture *c = static_cast<Capture *>(data);
  // Open streams are held by a strong reference, so this runs after close() or at teardown
  // (after envCleanup). A stream whose close never finished stays allocated: its callback
  // might still run.
  if (c->jsState == Capture::JsState::Closed) delete c;
}

bool getProp(napi_env env, napi_value obj, const char *key, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return false;
  return napi_get_named_property(env, obj, key, out) == napi_ok;
}

bool getNumber(napi_env env, napi_value obj, const char *key, double *out) {
  napi_value v;
  napi_valuetype t;
  if (!getProp(env, obj, key, &v) || napi_typeof(env, v, &t) != napi_ok || t != napi_number) return false;
  return napi_get_value_double(env, v, out) == napi_ok;
}

// openInput(options, onWake): Promise<stream>. Options: deviceId, channels, sampleFormat
// ('int8'|'int16'|'int24'|'int32'|'float32'), sampleRate, framesPerBuffer, ringFrames,
// suggestedLatencyMs (0 = the device's high input latency), wakeFrames. The JS wrapper
// validates them with full messages; this checks only what would be unsafe.
napi_value OpenInput(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  THROW_IF(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok, "bad call");
  THROW_IF(argc < 2, "openInput(options, onWake) takes 2 arguments");
  napi_valuetype t0, t1;
  napi_typeof(env, argv[0], &t0);
  napi_typeof(env, argv[1], &t1);
  THROW_IF(t0 != napi_object || t1 != napi_function, "openInput(options, onWake): an options object and a function");
  CaptureOptions o;
  double deviceId, channels, sampleRate, framesPerBuffer = 0, ringFrames, latencyMs = 0, wakeFrames = 1;
  THROW_IF(!getNumber(env, argv[0], "deviceId", &deviceId) || deviceId < 0 || deviceId != (int)deviceId,
           "openInput(): deviceId must be a device id (an integer >= 0)");
  THROW_IF(!getNumber(env, argv[0], "channels", &channels) || channels < 1 || channels > 256 ||
               channels != (int)channels,
           "openInput(): channels must be an integer from 1 to 256");
  THROW_IF(!getNumber(env, argv[0], "sampleRate", &sampleRate) || !(sampleRate > 0) || sampleRate > 1e6,
           "openInput(): sampleRate must be a number of Hz above 0");
  THROW_IF(!getNumber(env, argv[0], "ringFrames", &ringFrames) || ringFrames < 1 || ringFrames > (1u << 30) ||
               ringFrames != (uint32_t)ringFrames,
           "openInput(): ringFrames must be an integer from 1 to 2^30");
  getNumber(env, argv[0], "framesPerBuffer", &framesPerBuffer);
  getNumber(env, argv[0], "suggestedLatencyMs", &latencyMs);
  getNumber(env, argv[0], "wakeFrames", &wakeFrames);
  THROW_IF(framesPerBuffer < 0 || framesPerBuffer > (1u << 24) || latencyMs < 0 || wakeFrames < 1 ||
               wakeFrames > (1u << 30),
           "openInput(): framesPerBuffer, suggestedLatencyMs and wakeFrames must be non-negative integers");
  napi_value fmtValue;
  char fmt[16] = {0};
  size_t fmtLength = 0;
  THROW_IF(!getProp(env, argv[0], "sampleFormat", &fmtValue) ||
               napi_get_value_string_utf8(env, fmtValue, fmt, sizeof fmt, &fmtLength) != napi_ok,
           "openInput(): sampleFormat must be 'int8', 'int16', 'int24', 'int32' or 'float32'");
  const std::string format(fmt, fmtLength);
  if (format == "int8") o.format = paInt8, o.bytesPerSample = 1;
  else if (format == "int16") o.format = paInt16, o.bytesPerSample = 2;
  else if (format == "int24") o.format = paInt24, o.bytesPerSample = 3;
  else if (format == "int32") o.format = paInt32, o.bytesPerSample = 4;
  else if (format == "float32") o.format = paFloat32, o.bytesPerSample = 4;
  else THROW_IF(true, "openInput(): sampleFormat must be 'int8', 'int16', 'int24', 'int32' or 'float32'");
  o.deviceId = (int)deviceId;
  o.channels = (int)channels;
  o.sampleRate = sampleRate;
  o.framesPerBuffer = (uint32_t)framesPerBuffer;
  o.ringFrames = (uint32_t)ringFrames;
  o.suggestedLatencySeconds = latencyMs / 1000.0;
  o.wakeFrames = (uint32_t)wakeFrames;

  Capture *c = new Capture(env, o);
  if (!c->initWake(argv[1])) {
    delete c;
    THROW_IF(true, "openInput(): cannot set up the wake-up of JavaScript");
  }
  napi_add_env_cleanup_hook(env, envCleanup, c);
  std::string *error = new std::string();
  return paPromise(
      env, "audex.naudiodon.openInput", [c, error] { c->open(*error); },
      [c, error](napi_env env, std::string &reject) -> napi_value {
        struct Free {
          std::string *s;
          ~Free() { delete s; }
        } owned{error};
        if (c->jsState != Capture::JsState::Opening) return nullptr;
        if (!error->empty()) {
          c->closeWake();
          napi_remove_env_cleanup_hook(env, envCleanup, c);
          delete c;
          reject = "[audex/naudiodon] " + *error;
          return nullptr;
        }
        napi_value obj, fn;
        if (napi_create_object(env, &obj) != napi_ok) return nullptr;
        napi_create_function(env, "read", NAPI_AUTO_LENGTH, StreamRead, nullptr, &fn);
        napi_set_named_property(env, obj, "read", fn);
        napi_create_function(env, "setWakeFrames", NAPI_AUTO_LENGTH, StreamSetWakeFrames, nullptr, &fn);
        napi_set_named_property(env, obj, "setWakeFrames", fn);
        napi_create_function(env, "close", NAPI_AUTO_LENGTH, StreamClose, nullptr, &fn);
        napi_set_named_property(env, obj, "close", fn);
        setNumber(env, obj, "latencyMs", c->latencyMs());
        if (napi_wrap(env, obj, c, finalizeStream, nullptr, nullptr) != napi_ok) return nullptr;
        napi_create_reference(env, obj, 1, &c->self);
        c->jsState = Capture::JsState::Open;
        return obj;
      });
}

napi_value Version(napi_env env, napi_callback_info) {
  napi_value v;
  napi_create_string_utf8(env, Pa_GetVersionText(), NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value Init(napi_env env, napi_value exports) {
  installQuietHandlers();
  napi_property_descriptor desc[] = {
      {"listDevices", nullptr, ListDevices, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"openInput", nullptr, OpenInput, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"diagnostics", nullptr, Diagnostics, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"portAudioVersion", nullptr, Version, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof desc / sizeof desc[0], desc) != napi_ok) return nullptr;
  return exports;
}

}  // namespace
}  // namespace audex

NAPI_MODULE_INIT() { return audex::Init(env, exports); }

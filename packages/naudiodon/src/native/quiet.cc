// Owns the silencing of libasound's and libjack's console output.
//
// On a machine without a sound card every PortAudio device scan makes libasound print ~100-370
// lines (unknown PCMs from alsa.conf, the pulse plugin's connection attempts, the jack plugin's
// libjack complaining that no server runs). They are kept in a ring of the most recent messages
// instead. The handlers can run on any thread, PortAudio's audio thread included: they take no
// lock, allocate nothing and call nothing that does (vsnprintf with the libraries' own formats,
// no strerror: it may translate, which locks and allocates).
#include "compat.h"

#include "quiet.h"

#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#if defined(__linux__)
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <portaudio.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace audex {

namespace {

constexpr uint32_t kSlots = 16;
constexpr uint32_t kSlotBytes = 512;
constexpr uint32_t kWords = kSlotBytes / sizeof(uint64_t);

// One message. `seq` is 2*i+2 once message number i is complete in it, odd while it is written:
// a reader keeps a copy only if it saw the same even value before and after copying.
struct Slot {
  std::atomic<uint64_t> seq{0};
  std::atomic<uint64_t> words[kWords];
};

Slot gSlots[kSlots];
std::atomic<uint64_t> gNext{0};     // number of messages ever recorded
std::atomic<uint64_t> gCleared{0};  // messages before this index are forgotten

void store(const char *text) {
  const uint64_t i = gNext.fetch_add(1, std::memory_order_relaxed);
  Slot &slot = gSlots[i % kSlots];
  slot.seq.store(2 * i + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  uint64_t buf[kWords];
  memcpy(buf, text, kSlotBytes);
  for (uint32_t k = 0; k < kWords; ++k) slot.words[k].store(buf[k], std::memory_order_relaxed);
  slot.seq.store(2 * i + 2, std::memory_order_release);
}

void recordv(const char *prefix, const char *fmt, va_list ap) {
  char line[kSlotBytes];
  memset(line, 0, sizeof line);
  int n = snprintf(line, sizeof line, "%s", prefix);
  if (n < 0) n = 0;
  if (n < (int)kSlotBytes) vsnprintf(line + n, sizeof line - n, fmt, ap);
  line[kSlotBytes - 1] = 0;
  store(line);
}

void recordf(const char *prefix, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  recordv(prefix, fmt, ap);
  va_end(ap);
}

#if defined(__linux__)
// snd_lib_error_handler_t; formats like libasound's default handler (errno as a number).
void alsaHandler(const char *file, int line, const char *function, int err, const char *fmt, ...) {
  char prefix[200];
  snprintf(prefix, sizeof prefix, "ALSA lib %s:%i:(%s) ", file ? file : "?", line, function ? function : "?");
  char body[kSlotBytes];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  if (err) recordf(prefix, "%s: errno %d", body, err < 0 ? -err : err);
  else recordf(prefix, "%s", body);
}

void jackHandler(const char *msg) { recordf("JACK: ", "%s", msg ? msg : ""); }

void portAudioHandler(const char *msg) { recordf("PortAudio: ", "%s", msg ? msg : ""); }

// PortAudio prints its failed-expression traces (e.g. when a device vanishes mid-stream) with
// fprintf(stderr) unless PaUtil_SetDebugPrintFunction() installs a callback, and the bundled
// build does not export that function. It is in the library's symbol table, though: find it
// there (in the very file that is loaded) and call it. A stripped system library keeps printing.
void quietPortAudio() {
  Dl_info info;
  struct link_map *map = nullptr;
  if (!dladdr1(reinterpret_cast<void *>(&Pa_Initialize), &info, reinterpret_cast<void **>(&map), RTLD_DL_LINKMAP) ||
      map == nullptr || info.dli_fname == nullptr)
    return;
  const int fd = ::open(info.dli_fname, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const off_t length = lseek(fd, 0, SEEK_END);
  void *file = MAP_FAILED;
  if (length > (off_t)sizeof(ElfW(Ehdr))) file = mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (file == MAP_FAILED) return;
  const uint8_t *base = static_cast<const uint8_t *>(file);
  const size_t size = length;
  const ElfW(Ehdr) *eh = reinterpret_cast<const ElfW(Ehdr) *>(base);
  void *found = nullptr;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_shentsize == sizeof(ElfW(Shdr)) &&
      eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) <= size) {
    const ElfW(Shdr) *sh = reinterpret_cast<const ElfW(Shdr) *>(base + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum && !found; ++i) {
      if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
      const ElfW(Shdr) &strtab = sh[sh[i].sh_link];
      if (sh[i].sh_offset + sh[i].sh_size > size || strtab.sh_offset + strtab.sh_size > size) continue;
      const ElfW(Sym) *syms = reinterpret_cast<const ElfW(Sym) *>(base + sh[i].sh_offset);
      const size_t count = sh[i].sh_size / sizeof(ElfW(Sym));
      const char *names = reinterpret_cast<const char *>(base + strtab.sh_offset);
      for (size_t k = 0; k < count; ++k) {
        if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || syms[k].st_value == 0 ||
            syms[k].st_name >= strtab.sh_size)
          continue;
        if (strcmp(names + syms[k].st_name, "PaUtil_SetDebugPrintFunction") == 0) {
          found = reinterpret_cast<void *>(map->l_addr + syms[k].st_value);
          break;
        }
      }
    }
  }
  munmap(file, size);
  typedef void (*SetDebugPrint)(void (*)(const char *));
  if (found) reinterpret_cast<SetDebugPrint>(found)(portAudioHandler);
}

bool debugRequested() {
  const char *v = getenv("AUDEX_CAPTURE_DEBUG");
  return v && *v && strcmp(v, "0") != 0;
}

void install() {
  if (debugRequested()) return;
  quietPortAudio();
  // libjack (through ALSA's jack plugin) would otherwise try to spawn jackd on every scan.
  setenv("JACK_NO_START_SERVER", "1", /*overwrite*/ 0);
  typedef void (*AlsaHandler)(const char *, int, const char *, int, const char *, ...);
  typedef int (*AlsaSetHandler)(AlsaHandler);
  // libportaudio links libasound.so.2: this is that same instance.
  if (void *asound = dlopen("libasound.so.2", RTLD_LAZY | RTLD_GLOBAL)) {
    if (AlsaSetHandler set = (AlsaSetHandler)dlsym(asound, "snd_lib_error_set_handler")) set(alsaHandler);
  }
  // ALSA's jack plugin dlopens libjack.so.0 later and gets this instance, so the handlers set
  // here apply to it. The handle is kept open: the settings must outlive the plugin.
  typedef void (*JackSetFn)(void (*)(const char *));
  if (void *jack = dlopen("libjack.so.0", RTLD_LAZY | RTLD_GLOBAL)) {
    if (JackSetFn setErr = (JackSetFn)dlsym(jack, "jack_set_error_function")) setErr(jackHandler);
    if (JackSetFn setInfo = (JackSetFn)dlsym(jack, "jack_set_info_function")) setInfo(jackHandler);
  }
}
#else
void install() {}
#endif

pthread_once_t gOnce = PTHREAD_ONCE_INIT;

}  // namespace

void installQuietHandlers() { pthread_once(&gOnce, install); }

void clearDiagnostics() { gCleared.store(gNext.load(std::memory_order_acquire), std::memory_order_release); }

napi_value Diagnostics(napi_env env, napi_callback_info) {
  const uint64_t next = gNext.load(std::memory_order_acquire);
  uint64_t from = gCleared.load(std::memory_order_acquire);
  if (next - from > kSlots) from = next - kSlots;
  napi_value result;
  if (napi_create_array(env, &result) != napi_ok) return nullptr;
  uint32_t out = 0;
  for (uint64_t i = from; i < next; ++i) {
    const Slot &slot = gSlots[i % kSlots];
    const uint64_t before = slot.seq.load(std::memory_order_acquire);
    if (before != 2 * i + 2) continue;  // still being written, or overwritten by a newer message
    uint64_t buf[kWords];
    for (uint32_t k = 0; k < kWords; ++k) buf[k] = slot.words[k].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.seq.load(std::memory_order_relaxed) != before) continue;
    char text[kSlotBytes];
    memcpy(text, buf, kSlotBytes);
    text[kSlotBytes - 1] = 0;
    napi_value line;
    if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &line) != napi_ok) return nullptr;
    if (napi_set_element(env, result, out++, line) != napi_ok) return nullptr;
  }
  return result;
}

}  // namespace audex

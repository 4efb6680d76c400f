// Owns the silencing of libasound's and libjack's console output: their messages go into a small
// lock-free ring of recent lines (read by diagnostics()) instead of stderr.
#ifndef AUDEX_QUIET_H
#define AUDEX_QUIET_H

#include <node_api.h>

namespace audex {

// Installs the handlers once per process (unless AUDEX_CAPTURE_DEBUG is set to something other
// than "" or "0") and sets JACK_NO_START_SERVER=1 when unset. Call on a JavaScript thread at
// module load (setenv is not safe next to other threads' getenv, so it happens once, early).
void installQuietHandlers();

// Forgets the recorded messages: what is recorded afterwards is what the next step said.
void clearDiagnostics();

// JS: diagnostics() -> string[]: the most recent recorded messages (up to 16), oldest first.
napi_value Diagnostics(napi_env env, napi_callback_info info);

}  // namespace audex

#endif

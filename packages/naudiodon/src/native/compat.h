// Owns what keeps the prebuilt linux-x64 binary loadable on older distributions than the Debian 12
// that builds it: glibc symbols bound to their oldest x86-64 versions (glibc 2.34 moved pthread and
// dl* into libc under new versions; the old ones still exist) and no libstdc++ symbol newer than
// GCC 5's, so the binary needs glibc >= 2.17 and libstdc++ >= GLIBCXX_3.4.21 (see README). No
// fstat: glibc 2.33 turned it into a new symbol with no older version.
// Include first in every source file.
#ifndef AUDEX_COMPAT_H
#define AUDEX_COMPAT_H

#include <limits.h>  // defines __GLIBC__ (through <features.h>)

#if defined(__linux__) && defined(__x86_64__) && defined(__GLIBC__)
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dladdr1,dladdr1@GLIBC_2.3.3");
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_detach,pthread_detach@GLIBC_2.2.5");
__asm__(".symver pthread_once,pthread_once@GLIBC_2.2.5");
__asm__(".symver pthread_condattr_setclock,pthread_condattr_setclock@GLIBC_2.3.3");
__asm__(".symver pthread_condattr_init,pthread_condattr_init@GLIBC_2.2.5");
__asm__(".symver pthread_condattr_destroy,pthread_condattr_destroy@GLIBC_2.2.5");
__asm__(".symver pthread_cond_init,pthread_cond_init@GLIBC_2.3.2");
__asm__(".symver pthread_cond_destroy,pthread_cond_destroy@GLIBC_2.3.2");
__asm__(".symver pthread_cond_wait,pthread_cond_wait@GLIBC_2.3.2");
__asm__(".symver pthread_cond_timedwait,pthread_cond_timedwait@GLIBC_2.3.2");
__asm__(".symver pthread_cond_signal,pthread_cond_signal@GLIBC_2.3.2");
__asm__(".symver pthread_cond_broadcast,pthread_cond_broadcast@GLIBC_2.3.2");
__asm__(".symver pthread_mutex_init,pthread_mutex_init@GLIBC_2.2.5");
__asm__(".symver pthread_mutex_destroy,pthread_mutex_destroy@GLIBC_2.2.5");
__asm__(".symver pthread_mutex_lock,pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver pthread_mutex_unlock,pthread_mutex_unlock@GLIBC_2.2.5");
#endif

#endif

// Owns the libstdc++ helpers GCC 12's headers call that only newer libstdc++ versions export
// (see compat.h): defined here, hidden, so the binary does not import them.
#include "compat.h"

#include <cstdlib>
#include <new>

namespace std {
// GLIBCXX_3.4.29 (GCC 11): thrown by std::allocator for impossible sizes.
__attribute__((visibility("hidden"))) void __throw_bad_array_new_length() { std::abort(); }
}  // namespace std

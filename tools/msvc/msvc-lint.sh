#!/bin/sh
# msvc-lint.sh PATH... - what clang-cl accepts but MSVC's cl rejects or reads differently: GNU
# extensions clang always enables and mingw-only types. Exit 1 on any hit.
! grep -rnE --include='*.c' --include='*.cpp' --include='*.cc' --include='*.h' --include='*.hpp' \
  '__attribute__|__builtin_|__PRETTY_FUNCTION__|__int128|\bssize_t\b|__typeof__|#[[:space:]]*include_next|__extension__|__cplusplus[[:space:]]*[<>=]' \
  "$@"

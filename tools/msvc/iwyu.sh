#!/bin/sh
# iwyu.sh HEADER... - include-what-you-use over each Windows-free header, as its own main file:
# every header must include what it uses. MSVC's standard library pulls in far less transitively
# than libstdc++, so a missing <iterator> or <utility> that compiles here fails under cl.
# tools/msvc/iwyu.imp maps libstdc++'s private headers to the public ones they belong to.
set -eu
dir=$(dirname "$0")
status=0
for header in "$@"; do
    if ! out=$(include-what-you-use -std=c++17 -I. -x c++ -Wno-pragma-once-outside-header \
            -Xiwyu --error -Xiwyu --no_fwd_decls -Xiwyu --mapping_file="$dir/iwyu.imp" "$header" 2>&1); then
        echo "$out"
        status=1
    fi
done
[ "$status" = 0 ] && echo "iwyu: $# headers include what they use"
exit "$status"

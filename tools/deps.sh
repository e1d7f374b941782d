#!/bin/sh
# deps.sh [bench] - makes sure every Debian 12 package the build and the tests use is installed
# (with `bench`, also what make bench needs).
# As root it installs what is missing; otherwise it prints the exact apt-get line and fails.
# Quiet and fast (a few file tests, one python start) when everything is there: every make
# target runs it first.
set -eu

missing=""
need() {  # need PACKAGE TEST...: the package is missing when the test fails
    package=$1
    shift
    "$@" >/dev/null 2>&1 || case " $missing " in
        *" $package "*) ;;
        *) missing="$missing $package" ;;
    esac
}
has() { command -v "$1"; }
fuzzer_runtime() { set -- /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a; [ -f "$1" ]; }

need make has make
need g++ has g++                                              # native unit tests (ASan, UBSan)
need g++-mingw-w64-x86-64-posix has x86_64-w64-mingw32-g++-posix   # server.exe, client.exe
need gcc-mingw-w64-x86-64-posix has x86_64-w64-mingw32-gcc-posix   # the cl.exe/where.exe shims
need wine has wine
need wine has wineserver
need wine64 test -x /usr/lib/wine/wine64                      # 64-bit Wine (no i386 needed)
need clang-14 has clang++-14                                  # the fuzzer
need libclang-rt-14-dev fuzzer_runtime                        # libFuzzer, sanitizers for clang
need clang-tools-14 has clang-cl-14                           # the MSVC-mode check (clang-cl, clang-query)
need clang-tools-14 has clang-query-14
need libc++-14-dev test -f /usr/lib/llvm-14/include/c++/v1/vector   # its standard headers
need iwyu has include-what-you-use                            # every header includes what it uses
need python3-pytest /usr/bin/python3 -c "import pytest"
need python3-pexpect /usr/bin/python3 -c "import pexpect"
need python3-pyte /usr/bin/python3 -c "import pyte"                # terminal screens, rendered
need putty-tools has plink                                    # PuTTY's telnet, for the terminal tests
need util-linux has unshare                                    # a hosts file of its own for one test
need inetutils-telnet has telnet                              # the real-telnet e2e tests
need tmux has tmux                                            # the real telnet of the /play test runs in it
need nodejs has node                                          # the workflow linters (from npm)
need npm has npm
need libasio-dev test -f /usr/include/asio.hpp                # the Asio benchmark peer (built by make test)
if [ "${1:-}" = bench ]; then                                 # make bench only
    need gnuplot-nox has gnuplot                              # the chart
    need util-linux has taskset                               # pinning server and load to cores
fi

[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps.sh: installing:$missing"
    apt-get update
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
else
    echo "deps.sh: missing packages. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi

#!/bin/sh
# deps.sh - makes sure every Debian package the build and the tests use is installed.
# As root it installs what is missing; otherwise it prints the exact apt-get line and fails.
# Quiet and fast when everything is there (it runs before every make target).
set -eu

missing=""
need() {  # need PACKAGE TEST...: the package is missing when the test fails
    package=$1
    shift
    "$@" >/dev/null 2>&1 || missing="$missing $package"
}
has() { command -v "$1"; }

need g++-mingw-w64-x86-64-posix has x86_64-w64-mingw32-g++-posix
need gcc-mingw-w64-x86-64-posix has x86_64-w64-mingw32-gcc-posix
need wine has wine
need wine64 test -x /usr/lib/wine/wine64
need g++ has g++
need make has make
need clang-14 has clang++-14
need clang-tools-14 has clang-cl-14
need libc++-14-dev test -f /usr/lib/llvm-14/include/c++/v1/vector
need libclang-rt-14-dev test -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
need python3-pytest /usr/bin/python3 -c "import pytest"
need python3-pexpect /usr/bin/python3 -c "import pexpect"
need inetutils-telnet has telnet

[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps.sh: installing:$missing"
    apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
else
    echo "deps.sh: missing packages. Run:"
    echo "  sudo apt-get update && sudo apt-get install -y$missing"
    exit 1
fi

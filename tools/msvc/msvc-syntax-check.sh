#!/bin/sh
# msvc-syntax-check.sh [cl flags...] FILE... - compiles like MSVC would, without MSVC.
# clang-cl in MSVC mode (_MSC_VER defined, MS ABI and layout, cl's flag syntax, /W4-like warnings)
# over mingw-w64's Win32 headers and libc++'s standard headers. overlay/ fixes mingw's headers for
# clang-cl (_mingw.h, stdlib.h: required) and imitates the Windows SDK and the MSVC CRT where
# mingw is more lenient (min/max macros, C4996 deprecations, POSIX-only headers rejected,
# <windows.h> before <winsock2.h> rejected). Checks only (/Zs): nothing is linked.
HERE=$(cd "$(dirname "$0")" && pwd)
exec clang-cl-14 --target=x86_64-pc-windows-msvc -fms-compatibility-version=19.29 \
  /nologo /Zs /std:c++17 /EHsc /W4 \
  -Wshadow -Wshorten-64-to-32 -Wimplicit-int-conversion -Wfloat-conversion \
  -Wvla -Wgnu-statement-expression -Wc++20-designator -Wgnu-case-range \
  /clang:-fno-operator-names \
  -D_LIBCPP_NO_VCRUNTIME \
  "/clang:-isystem$HERE/overlay" -imsvc /usr/lib/llvm-14/include/c++/v1 \
  -imsvc /usr/x86_64-w64-mingw32/include \
  "$@"

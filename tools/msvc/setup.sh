#!/bin/sh
# setup.sh OUTDIR - builds the Wine-side stand-ins that let build.bat run under Wine's cmd:
#   OUTDIR/cl/cl.exe          forwards cl's command line to clshim/cl_emul.py and waits for it
#   OUTDIR/cl/cl_emul.exe     the Linux side, a #! script (Wine starts those even named .exe)
#   OUTDIR/where/where.exe    a real `where`: Wine 8's always succeeds, so `where cl` could not fail
# cl.exe and where.exe sit in separate folders so a test can put `where` on PATH without `cl`.
# OUTDIR is generated (build/clshim): nothing here is committed. Idempotent and quick.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$1
mkdir -p "$OUT/cl" "$OUT/where"
CC=x86_64-w64-mingw32-gcc-posix
[ "$OUT/cl/cl.exe" -nt "$HERE/clshim/cl_shim.c" ] ||
    $CC -O2 -municode -o "$OUT/cl/cl.exe" "$HERE/clshim/cl_shim.c" -lshell32
[ "$OUT/where/where.exe" -nt "$HERE/clshim/where_shim.c" ] ||
    $CC -O2 -municode -o "$OUT/where/where.exe" "$HERE/clshim/where_shim.c"
# The wrapper names this checkout's cl_emul.py, so it is rewritten on every run (the checkout may
# have moved), through a temporary file: a parallel build may be executing the old one.
cat > "$OUT/cl/cl_emul.exe.tmp.$$" <<SH
#!/bin/sh
# Started by Wine from cl.exe; the environment comes from Wine.
export PATH=/usr/local/bin:/usr/bin:/bin
exec python3 "$HERE/clshim/cl_emul.py" "\$@"
SH
chmod +x "$OUT/cl/cl_emul.exe.tmp.$$"
mv -f "$OUT/cl/cl_emul.exe.tmp.$$" "$OUT/cl/cl_emul.exe"

#!/bin/sh
# run-build-bat.sh BUILD.BAT [cl|nocl] [ARG...] - runs a build.bat (with ARGs) under Wine's cmd, with the cl.exe
# stand-in first on the Windows PATH (or, with `nocl`, only the working `where`). Exit code: the
# batch file's. WINEPREFIX must be set; the prefix is created if it does not exist yet.
# The stand-ins are built into $CLSHIM_OUT (default: build/clshim under the project root).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BAT=$(realpath "$1")
MODE=${2:-cl}
shift $(( $# < 2 ? $# : 2 ))
SHIMS=${CLSHIM_OUT:-$(cd "$HERE/../.." && pwd)/build/clshim}
"$HERE/setup.sh" "$SHIMS"
export WINEDEBUG=-all
# Wine makes the prefix folder but not its parents (a fresh clone has no build/wine/). Without
# mscoree/mshtml disabled, wineboot offers to download Mono and Gecko (a dialog when $DISPLAY is
# set, which would hang an unattended run).
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    mkdir -p "$WINEPREFIX"
    WINEDLLOVERRIDES="mscoree,mshtml=" wineboot -i >/dev/null 2>&1 ||
        { echo "run-build-bat.sh: wineboot failed for $WINEPREFIX" >&2; exit 1; }
fi
winpath() { echo "Z:$1" | tr / '\\'; }
export CLSHIM_DIR="$SHIMS/cl"  # cl.exe finds cl_emul.exe and its queue here (no spaces allowed)
if [ "$MODE" = cl ]; then
    export WINEPATH="$(winpath "$SHIMS/cl");$(winpath "$SHIMS/where")"
else
    export WINEPATH="$(winpath "$SHIMS/where")"
fi
# cl.exe removes its own request folder from the queue, so parallel runs do not collide.
exec wine cmd /c "$(winpath "$BAT")" "$@"

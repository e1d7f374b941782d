#!/bin/sh
# run-build-bat.sh BUILD.BAT [cl|nocl] - runs a build.bat under Wine's cmd, with the cl.exe
# stand-in first on the Windows PATH (or, with `nocl`, only the working `where`). Exit code: the
# batch file's. WINEPREFIX must be set; the prefix is created if it does not exist yet.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BAT=$(realpath "$1")
MODE=${2:-cl}
SHIMS=${CLSHIM_OUT:-$(pwd)/build/clshim}
"$HERE/setup.sh" "$SHIMS"
export WINEDEBUG=-all
[ -f "$WINEPREFIX/system.reg" ] || wineboot -i >/dev/null 2>&1
winpath() { echo "Z:$1" | tr / '\\'; }
export CLSHIM_DIR="$SHIMS/cl"  # cl.exe finds cl_emul.exe and its queue here (no spaces allowed)
if [ "$MODE" = cl ]; then
    export WINEPATH="$(winpath "$SHIMS/cl");$(winpath "$SHIMS/where")"
else
    export WINEPATH="$(winpath "$SHIMS/where")"
fi
set +e
wine cmd /c "$(winpath "$BAT")"
rc=$?
rm -rf "$CLSHIM_DIR/queue"
exit $rc

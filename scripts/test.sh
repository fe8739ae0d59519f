#!/usr/bin/env bash
# The README's test command: build, typecheck, the TypeScript suites (vitest; arguments go to
# vitest), then the Python suites (MLflow clients 2.x and 3.x, the Python SDK).
set -uo pipefail
cd "$(dirname "$0")/.."
npm run build || exit 1
npm run typecheck || exit 1
npx vitest run "$@"
node_status=$?
bash scripts/test-python.sh
python_status=$?
exit $(( node_status || python_status ))

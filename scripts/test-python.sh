#!/usr/bin/env bash
# The Python half of the test suite, against real Chronicle servers started by the fixtures
# (the server must be built): the MLflow compatibility suite once with the pinned 2.x client
# and once with 3.x, then the Python SDK's tests. Extra arguments go to every pytest call.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
run() {
  local env_name="$1"; shift
  local venv
  venv="$(scripts/python-env.sh "$env_name")" || { status=1; return; }
  echo "== pytest ($env_name: $("$venv/bin/python" -c 'import importlib.metadata as m
try: print("mlflow " + m.version("mlflow"))
except m.PackageNotFoundError: print("no mlflow")'))"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider --junitxml=".venv/$env_name-junit.xml" "$@" || status=1
}
run mlflow2 python/tests/mlflow "$@"
run mlflow3 python/tests/mlflow "$@"
run sdk python/tests/sdk "$@"
exit $status

#!/usr/bin/env bash
# Creates (or reuses) the virtualenv .venv/<name> from python/requirements/<name>.txt and prints
# its path. A stamp of the requirements' hash makes a second call instant.
#   usage: scripts/python-env.sh mlflow2|mlflow3|sdk
set -euo pipefail
cd "$(dirname "$0")/.."
name="$1"
req="python/requirements/$name.txt"
venv=".venv/$name"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "== creating $venv from $req" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
# The SDK is installed fresh every time (not editable), the way a user's `pip install` gets it.
if [[ -f python/sdk/pyproject.toml ]]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --force-reinstall ./python/sdk >&2
fi
echo "$venv"

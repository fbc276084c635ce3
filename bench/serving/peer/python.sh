#!/usr/bin/env bash
# Creates (once) the venv for the benchmark's MLServer peer from requirements.txt beside this
# file and prints its interpreter. Fast when the requirements have not changed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${MLOPS_PEER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-venv-serving-peer}"
stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV" >&2
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "[peer] installing $HERE/requirements.txt into $VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt" >&2
  echo "$want" > "$stamp"
fi
echo "$VENV/bin/python"

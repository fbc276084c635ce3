#!/usr/bin/env bash
# Creates (once) the Python virtualenv the interoperability tests use — the real mlflow and
# tritonclient packages from PyPI — and installs every test/interop/requirements-*.txt.
# Prints the interpreter path. Fast when the requirements have not changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
VENV="${MLOPS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-venv}"
shopt -s nullglob
reqs=(test/interop/requirements-*.txt)
stamp="$VENV/.requirements.sha256"
want=$(cat "${reqs[@]}" /dev/null | sha256sum | cut -d' ' -f1)
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" >&2
fi
if [[ ${#reqs[@]} -gt 0 && "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "[python] installing ${reqs[*]} into $VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $(printf -- '-r %s ' "${reqs[@]}") >&2
  echo "$want" > "$stamp"
fi
echo "$VENV/bin/python"

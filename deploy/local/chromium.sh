#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the web console's browser tests
# (test/console/console.spec.ts drives it with playwright-core; Playwright's own browser
# downloads do not work here). Installs the `chromium` package when it is missing. Prints the
# executable's path (what $CHROMIUM gives the tests).
set -euo pipefail
find_chromium() { command -v chromium 2>/dev/null || { [[ -x /usr/bin/chromium ]] && echo /usr/bin/chromium; } || true; }
chromium_bin=$(find_chromium)
if [[ -z $chromium_bin ]]; then
  echo "[chromium] not found: installing Debian's chromium (apt-get install -y chromium)" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
  chromium_bin=$(find_chromium)
  [[ -n $chromium_bin ]] || { echo "ERROR: chromium still not found after installing it" >&2; exit 1; }
fi
echo "[chromium] $("$chromium_bin" --version 2>/dev/null || echo 'version unknown') at $chromium_bin" >&2
echo "$chromium_bin"

#!/usr/bin/env bash
# Makes sure promtool is installed for test/deploy/prometheus-rules.spec.ts (`promtool check
# rules` and `promtool test rules` on deploy/prometheus/alerts.rules*.yml). Installs Debian's
# prometheus package when it is missing (its postinst does not start the server here). Prints
# the binary's path.
set -euo pipefail
find_promtool() { command -v promtool 2>/dev/null || { [[ -x /usr/bin/promtool ]] && echo /usr/bin/promtool; } || true; }
promtool_bin=$(find_promtool)
if [[ -z $promtool_bin ]]; then
  echo "[promtool] not found: installing Debian's prometheus (apt-get install -y prometheus)" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq >&2
  $sudo env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
  promtool_bin=$(find_promtool)
  [[ -n $promtool_bin ]] || { echo "ERROR: promtool still not found after installing prometheus" >&2; exit 1; }
fi
echo "[promtool] $("$promtool_bin" --version 2>&1 | head -n 1) at $promtool_bin" >&2
echo "$promtool_bin"

#!/usr/bin/env bash
# Makes sure nginx is installed for the front door tests (test/deploy/front-door.spec.ts and the
# multi-process e2e run deploy/nginx/front-door.conf.template in a real nginx, as a child process
# on a loopback port). Installs Debian's nginx-light when it is missing. Prints the binary's path.
set -euo pipefail
find_nginx() { command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true; }
nginx_bin=$(find_nginx)
if [[ -z $nginx_bin ]]; then
  echo "[nginx] not found: installing Debian's nginx-light (apt-get install -y nginx-light)" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  # RUNLEVEL=1: the package's postinst does not start the system nginx service (the tests start their own).
  $sudo apt-get update -qq >&2
  $sudo env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >&2
  nginx_bin=$(find_nginx)
  [[ -n $nginx_bin ]] || { echo "ERROR: nginx still not found after installing nginx-light" >&2; exit 1; }
fi
echo "[nginx] $("$nginx_bin" -v 2>&1) at $nginx_bin" >&2
echo "$nginx_bin"

#!/usr/bin/env bash
# Renders the front door's template to stdout, filling every ${NAME} from the environment as
# the nginx image's envsubst step does. Comment lines are left alone; placeholders with no
# value fail the render, all of them named.
#
# usage: FRONT_DOOR_LISTEN=127.0.0.1:8080 CONSOLE_ROOT=dist/console INGESTION_UPSTREAM=127.0.0.1:3001 ... \
#          bash deploy/nginx/render.sh [template] > front-door.conf
set -euo pipefail
template=${1:-"$(dirname "${BASH_SOURCE[0]}")/front-door.conf.template"}
perl -ne '
  BEGIN { @missing = (); %seen = (); $out = "" }
  unless (/^\s*#/) {
    s/\$\{([A-Z0-9_]+)\}/exists $ENV{$1} ? $ENV{$1} : do { push @missing, $1 unless $seen{$1}++; "" }/ge;
  }
  $out .= $_;
  END {
    if (@missing) { print STDERR "'"$template"': no value for ", join(", ", @missing), "\n"; exit 1 }
    print $out;
  }' "$template"

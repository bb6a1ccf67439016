#!/bin/bash
# The history at scale (make bench-history): a month of 100,000 flows a
# day written through the daemon's store, its bytes per flow, and the time
# of one program's queries.  Not a test: a measurement to rerun.
# usage: bench/history.sh [DAYS] [FLOWS_PER_DAY] [PROGRAMS]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BUILD=${PM_BUILD:-$TOP/build}
DB=$(mktemp -d /tmp/pmhbench.XXXXXX)
trap 'rm -rf "$DB"' EXIT
"$BUILD/bin/history_bench" "$DB/history.db" "$@"

#!/bin/bash
# make bench-report: instructions portmasterd spends per report of a flow
# the module decided itself (parse and engine), counted by callgrind in
# run_reports() only, so the number does not depend on the machine's
# speed or load.  usage: bench/report.sh BINARY [REPORTS]
set -euo pipefail
bin=$1 n=${2:-20000}
command -v valgrind >/dev/null || { echo "bench-report: valgrind is not installed (make deps)" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind -q --tool=callgrind --toggle-collect=run_reports --callgrind-out-file="$out" "$bin" "$n" >/dev/null
ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
awk -v ir="$ir" -v n="$n" 'BEGIN { printf "portmasterd, per report of a remembered flow: %.0f instructions (%d reports, callgrind)\n", ir / n, n }'

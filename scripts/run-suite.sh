#!/bin/bash
# Run one test suite that prints TAP, keep its output under
# build/results/NAME.tap, and make the file honest: a suite that exits
# non-zero, or prints fewer results than its plan, gets a failing line of
# its own so that the summary counts it.
# usage: run-suite.sh NAME CMD...
set -uo pipefail
name=$1
shift
here=$(cd "$(dirname "$0")/.." && pwd)
results=${PM_RESULTS:-$here/build/results}
mkdir -p "$results"
tap=$results/$name.tap
log=$results/$name.log

echo "== $name"
"$@" 2>"$log" | tee "$tap.tmp"
rc=${PIPESTATUS[0]}

plan=$(grep -m1 -E '^1\.\.[0-9]+' "$tap.tmp" | sed 's/^1\.\.//; s/ .*//')
count=$(grep -cE '^(not )?ok\b' "$tap.tmp")
fails=$(grep -cE '^not ok\b' "$tap.tmp")
{
	cat "$tap.tmp"
	if [ -z "$plan" ]; then
		echo "not ok - $name: no TAP plan (crashed or no tests)"
	elif [ "$plan" != "$count" ]; then
		echo "not ok - $name: planned $plan results, printed $count"
	fi
	if [ "$rc" != 0 ] && [ "$fails" = 0 ]; then
		echo "not ok - $name: exited with status $rc"
	fi
} >"$tap"
rm -f "$tap.tmp"
if [ "$rc" != 0 ] || [ -s "$log" ]; then
	tail -n 40 "$log" | sed "s/^/[$name] /" >&2
fi
exit 0

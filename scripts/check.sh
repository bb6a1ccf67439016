#!/bin/bash
# Run the named check stages (make check-STAGE) one after another, keep
# going past failures, and end with the one summary line of
# scripts/summary.sh.  A stage that fails outright (a build error) gets a
# failing result of its own.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
results=${PM_RESULTS:-$here/build/results}
mkdir -p "$results"
start=$(date +%s)
for stage in "$@"; do
	t0=$(date +%s)
	if ! make -s -C "$here" "check-$stage"; then
		echo "not ok 1 - stage $stage could not be built or run (see above)" \
			>"$results/stage-$stage.tap"
		echo "1..1" >>"$results/stage-$stage.tap"
	fi
	echo "-- stage $stage: $(($(date +%s) - t0)) s"
done
echo "-- all stages: $(($(date +%s) - start)) s"
exec "$here/scripts/summary.sh"

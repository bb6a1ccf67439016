#!/bin/sh
# Count every result of every suite under build/results and print one
# line: "N passed, N failed, N skipped".  Exit 1 when anything failed or
# nothing ran.  Skips count as skips, never as passes.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
results=${PM_RESULTS:-$here/build/results}
cat "$results"/*.tap 2>/dev/null | awk '
	/^not ok/ { if ($0 ~ /# *TODO/) skipped++; else { failed++; print "FAILED: " $0 > "/dev/stderr" } ; next }
	/^ok/ { if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) skipped++; else passed++ }
	END {
		printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
		exit (failed > 0 || passed + failed == 0) ? 1 : 0
	}'

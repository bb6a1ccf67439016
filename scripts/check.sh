#!/bin/bash
# Run the named check stages (make check-STAGE) one after another, keep
# going past failures, and end with the one summary line of
# scripts/summary.sh.  A stage that fails outright (a build error) gets a
# failing result of its own.
#
# "A+B" runs stages A and B side by side.  The qemu stages are made for
# it: a TCG guest keeps one host core busy, so two of them use the two
# cores that one leaves half idle.  Their output is printed stage by
# stage once both are done; their results are files of their own.
#
# "bg:A" starts stage A in the background at the lowest priority and goes
# on: it takes only what the stages after it leave idle (their sleeps and
# waits).  Its output is printed at the end.  Made for building the debug
# kernels while the stages that do not need them run; a stage that needs
# one waits for it (scripts/build-debug-kernel.sh holds a lock while it
# builds).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
results=${PM_RESULTS:-$here/build/results}
mkdir -p "$results"

run_stage() {	# STAGE
	local t0=$(date +%s)
	if ! make -s -C "$here" "check-$1"; then
		echo "not ok 1 - stage $1 could not be built or run (see above)" \
			>"$results/stage-$1.tap"
		echo "1..1" >>"$results/stage-$1.tap"
	fi
	echo "-- stage $1: $(($(date +%s) - t0)) s"
}

# What stages run beside others printed, once they are done.
print_stage_output() {	# STAGE...
	for s in "$@"; do
		cat "$results/stage-$s.out"
		rm -f "$results/stage-$s.out"
	done
}

start=$(date +%s)
background=() background_pids=()
for group in "$@"; do
	case $group in
	bg:*)
		s=${group#bg:}
		echo "-- stage $s: started in the background"
		(renice -n 19 -p "$BASHPID" >/dev/null; run_stage "$s") >"$results/stage-$s.out" 2>&1 &
		background+=("$s") background_pids+=($!)
		;;
	*+*)
		t0=$(date +%s)
		# What the stages share is built once, before they start.
		make -s -C "$here" tools daemon
		IFS=+ read -ra stages <<<"$group"
		pids=()
		for s in "${stages[@]}"; do
			run_stage "$s" >"$results/stage-$s.out" 2>&1 &
			pids+=($!)
		done
		wait "${pids[@]}"
		print_stage_output "${stages[@]}"
		echo "-- stages $group side by side: $(($(date +%s) - t0)) s"
		;;
	*)
		run_stage "$group"
		;;
	esac
done
if [ ${#background[@]} -gt 0 ]; then
	wait "${background_pids[@]}"
	print_stage_output "${background[@]}"
fi
echo "-- all stages: $(($(date +%s) - start)) s"
exec "$here/scripts/summary.sh"

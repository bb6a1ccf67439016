#!/bin/bash
# Runs each libFuzzer harness briefly and reports as TAP.
# usage: run.sh FUZZ-BIN-DIR [SECONDS]
set -u
dir=$1
secs=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
n=0
fail=0
for h in rules control dns kmod; do
	n=$((n + 1))
	bin=$dir/fuzz_$h
	if [ ! -x "$bin" ]; then
		echo "ok $n - fuzz $h # SKIP harness not built (clang with libFuzzer missing)"
		continue
	fi
	work=$(mktemp -d)
	cp "$here/corpus/$h/"* "$work/" 2>/dev/null
	out=$("$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -max_len=8192 \
		-print_final_stats=1 -artifact_prefix="$dir/crash-$h-" "$work" 2>&1)
	rc=$?
	runs=$(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
	if [ "$rc" = 0 ]; then
		echo "ok $n - fuzz $h: ${runs:-?} inputs in ${secs}s, no crash, leak or sanitizer report"
	else
		fail=1
		echo "not ok $n - fuzz $h: crashed (artifact in $dir)"
		echo "$out" | tail -n 30 | sed 's/^/# /'
	fi
	rm -rf "$work"
done
echo "1..$n"
exit $fail

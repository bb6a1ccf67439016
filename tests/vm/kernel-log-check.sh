#!/bin/sh
# Fail (exit 1) when a kernel log shows a splat, printing the lines.
# usage: kernel-log-check.sh LOG...
# Missing files are skipped: the console log alone suffices.
set -u
pattern='BUG:|WARNING:|Oops|KASAN|Call Trace|possible recursive locking|circular locking dependency|inconsistent lock state|suspicious RCU usage|kmemleak: [0-9]+ new suspected|Kernel panic|general protection fault|refcount_t:|list_(add|del) corruption|UBSAN'
# Known, harmless lines that contain one of those words.
benign='RETBleed: WARNING|Spectre V2 : WARNING|x86/cpu: VMX .*WARNING'
rc=0
for f in "$@"; do
	[ -f "$f" ] || continue
	hits=$(grep -aE "$pattern" "$f" | grep -avE "$benign")
	if [ -n "$hits" ]; then
		echo "kernel log $f:" >&2
		grep -aE -A 25 "$pattern" "$f" | head -n 80 >&2
		rc=1
	fi
done
exit $rc

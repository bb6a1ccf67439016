#!/bin/sh
# Turn the KTAP of KUnit suites (/sys/kernel/debug/kunit/*/results) into
# flat TAP lines, one per test case, named "suite: case".  A case's
# diagnostics ("# ...") follow it.  Reads stdin, writes stdout, no plan.
awk '
	/^[ \t]+# Subtest: / { suite = $NF; next }
	/^[ \t]+(not )?ok [0-9]+ / {
		line = $0
		sub(/^[ \t]+/, "", line)
		fail = (line ~ /^not ok/)
		sub(/^(not )?ok [0-9]+ /, "", line)
		printf "%s - %s: %s\n", fail ? "not ok 0" : "ok 0", suite, line
		next
	}
	/^[ \t]+# / && !/# Subtest:/ { l = $0; sub(/^[ \t]+/, "", l); print l }
'

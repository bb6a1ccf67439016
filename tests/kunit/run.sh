#!/bin/bash
# The KUnit suites: build (or reuse) the debug kernel of one series,
# build the suites against it, run them in qemu and report every case as
# TAP.  A failing case, a missing suite, a kernel splat or a kmemleak
# report fails.
# usage: run.sh [6.1|6.12]
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here" || exit 1
. tests/lib/tap.sh

# The converter itself must turn a failed case into a failure.
got=$(printf '    # Subtest: s\n    ok 1 a\n    not ok 2 b\n' | tests/kunit/ktap2tap.sh | grep -c '^not ok')
tap_is "KTAP converter reports a failing case as a failure" "$got" 1

series=${1:-6.1}
if ! kdir=$(scripts/build-debug-kernel.sh "$series"); then
	tap_fail "debug kernel $series builds" "see build/results/kunit-$series.log"
	tap_done
	exit 1
fi
if ! out=$(scripts/build-module.sh "$kdir" tests/kunit 2>&1); then
	tap_fail "KUnit suites build against the debug kernel" "$out"
	tap_done
	exit 1
fi

vmout=${PM_BUILD:-$here/build}/vm/kunit-$series
tests/vm/run-vm.sh -q -k "$kdir" -m 2048 -t 600 -o "$vmout" -- bash tests/kunit/guest.sh
rc=$?

results=$(tests/kunit/ktap2tap.sh <"$vmout/output")
n=0
while IFS= read -r line; do
	case $line in
	"ok 0 - "*) tap_pass "${line#ok 0 - }" ;;
	"not ok 0 - "*) tap_fail "${line#not ok 0 - }" ;;
	"#"*) echo "$line" ;;
	esac
done <<<"$results"

for suite in $(sed -n 's/^[[:space:]]*\.name = "\(portmaster_[a-z_]*\)",/\1/p' tests/kunit/*_test.c); do
	if grep -q "^=== $suite\$" "$vmout/output"; then
		tap_pass "suite $suite ran"
	else
		tap_fail "suite $suite ran" "$(tail -n 20 "$vmout/output")"
	fi
	n=$((n + 1))
done
[ "$n" -gt 0 ] || tap_fail "found the KUnit suites in tests/kunit"

cpus=$(sed -n 's/^=== cpus: //p' "$vmout/output")
if [ "${cpus:-0}" -ge 2 ]; then
	tap_pass "the debug guest runs on $cpus CPUs (at least 2)"
else
	tap_fail "the debug guest runs on ${cpus:-no} CPUs (at least 2)"
fi

leaks=$(sed -n 's/^=== kmemleak: //p' "$vmout/output")
if [ "$leaks" = 0 ]; then
	tap_pass "kmemleak finds no leak"
else
	tap_fail "kmemleak finds no leak" "${leaks:-no kmemleak report}"
fi
case $rc in
0) tap_pass "debug kernel log clean (KASAN, lockdep, atomic sleep)" ;;
*) tap_fail "debug kernel log clean (KASAN, lockdep, atomic sleep)" "run-vm exit $rc; see $vmout/console.log" ;;
esac
tap_done

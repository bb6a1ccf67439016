#!/bin/bash
# Kernel code quality, as TAP: checkpatch.pl --strict (from Debian's
# linux-source) on every file of kmod/ and the uapi header, and a W=1
# build with sparse (C=2) against each Debian kernel series; any warning
# fails.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
. tests/lib/tap.sh

src=${PM_KERNEL_SRC:-/usr/src/linux-source-6.1}
checkpatch=$src/scripts/checkpatch.pl
if [ ! -x "$checkpatch" ]; then
	tap_fail "checkpatch.pl available" "not found at $checkpatch (make deps)"
else
	for f in kmod/*.c kmod/*.h include/uapi/linux/portmaster.h; do
		out=$("$checkpatch" --strict --no-tree --show-types --file "$f" 2>&1)
		rc=$?
		# Here-strings, not pipes: under pipefail an early-exiting grep -q
		# could fail a clean file by its writer's SIGPIPE.
		if [ "$rc" = 0 ] && grep -q '^total: 0 errors, 0 warnings, 0 checks' <<<"$out"; then
			tap_pass "checkpatch --strict: $f"
		else
			detail=$(grep -E '^(ERROR|WARNING|CHECK|#|\+)' <<<"$out" | head -40)
			# no finding (checkpatch itself failed): how it ended, what it printed
			[ -n "$detail" ] || detail="checkpatch exited $rc without a finding: $(tail -n 20 <<<"$out")"
			tap_fail "checkpatch --strict: $f" "$detail"
		fi
	done
fi

for series in 6.1 6.12; do
	if ! k=$(tests/vm/kernels.sh "$series" 2>&1); then
		tap_fail "sparse and W=1 clean against Debian $series" "$k"
		continue
	fi
	if out=$(PM_BUILD="$here/build/lint" PM_KBUILD_FLAGS="C=2 CHECK=sparse" \
		scripts/build-module.sh "/lib/modules/$k/build" 2>&1); then
		tap_pass "sparse (C=2) and W=1 clean against $k"
	else
		tap_fail "sparse (C=2) and W=1 clean against $k" "$(echo "$out" | grep -E 'warning|error' | head -40)"
	fi
done
tap_done

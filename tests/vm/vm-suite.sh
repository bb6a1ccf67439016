#!/bin/bash
# Run one guest test file in a VM and print its TAP, renumbered, with one
# more result of our own: that the kernel log stayed clean (no BUG,
# WARNING, Oops, KASAN, lockdep or call trace) and the guest finished.
# A debug kernel's run also reports what kmemleak found.
# usage: vm-suite.sh KERNEL TESTFILE [run-vm.sh options] [-- GUEST CMD...]
#   (the guest command defaults to: bash TESTFILE)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel=$1
test=$2
shift 2
opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	opts+=("$1")
	shift
done
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || set -- bash "$test"
name=$(basename "$test" .sh)
out=${PM_BUILD:-$here/../../build}/vm/$name-$(basename "$kernel")
"$here/run-vm.sh" -q -k "$kernel" -o "$out" "${opts[@]}" -- "$@" >/dev/null 2>"$out.err"
rc=$?
# run-vm.sh runs a guest again after a boot that failed, or a trap of
# the emulator's own (see there); each retry is said here.
if [ -s "$out/boot-retries" ]; then
	sed "s/^/# $name: run again: /" "$out/boot-retries"
fi
n=0
plan=
while IFS= read -r line; do
	if [[ $line =~ ^(not\ )?ok\ [0-9]+(.*)$ ]]; then
		n=$((n + 1))
		echo "${BASH_REMATCH[1]}ok $n${BASH_REMATCH[2]}"
	elif [[ $line =~ ^1\.\.([0-9]+) ]]; then
		plan=${BASH_REMATCH[1]}
	else
		echo "$line"
	fi
done < <(cat "$out/output" 2>/dev/null)
if [ "$plan" != "$n" ]; then
	n=$((n + 1))
	echo "not ok $n - $name: the guest test ran to its end (plan '${plan}', $((n - 1)) results)"
fi
if [ -f "$out/kmemleak" ]; then
	n=$((n + 1))
	if grep -q '^unreferenced object' "$out/kmemleak"; then
		echo "not ok $n - $name: kmemleak finds no leak"
		head -n 60 "$out/kmemleak" | sed 's/^/# /'
	else
		echo "ok $n - $name: kmemleak finds no leak"
	fi
fi
n=$((n + 1))
case $rc in
126) echo "not ok $n - $name: kernel log clean"; sed 's/^/# /' "$out.err" ;;
124) echo "not ok $n - $name: finished in time"; sed 's/^/# /' "$out.err" ;;
125) echo "not ok $n - $name: guest reported its status"; sed 's/^/# /' "$out.err" ;;
*) echo "ok $n - $name: kernel log clean" ;;
esac
echo "1..$n"
# The guest's own status counts only through its TAP lines above.
[ "$rc" = 124 ] || [ "$rc" = 125 ] || [ "$rc" = 126 ] && exit 1
exit 0

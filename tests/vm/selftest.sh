#!/bin/bash
# The harness's own self-test, run on the host: a run must fail when the
# guest command fails, and when the guest kernel warns even though the
# command passed; a clean passing run must pass.
# usage: selftest.sh KERNEL
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/tests/lib/tap.sh"
kernel=$1
kver=$kernel
[ -d "$kernel" ] && kver=$(cat "$kernel/include/config/kernel.release")
out=${PM_BUILD:-$repo/build}/vm/selftest-$kver
warn_ko=${PM_BUILD:-$repo/build}/kmod/$kver/tests/vm/selftest/pm_selftest_warn.ko

cd "$repo"
"$here/run-vm.sh" -q -k "$kernel" -t 120 -o "$out-pass" -- sh -c 'echo fine'
rc=$?
tap_is "a passing guest passes" "$rc" 0
tap_is "its output comes back" "$(cat "$out-pass/output" 2>/dev/null)" "fine"

"$here/run-vm.sh" -q -k "$kernel" -t 120 -o "$out-fail" -- sh -c 'exit 1'
tap_is "a guest script that exits 1 fails the run" "$?" 1

"$here/run-vm.sh" -q -k "$kernel" -t 120 -o "$out-warn" -- \
	sh -c "insmod $warn_ko && rmmod pm_selftest_warn" 2>/dev/null
tap_is "a guest kernel WARN fails the run, though the script passed" "$?" 126
tap_ok "the WARN is in the console log" grep -q "this warning is deliberate" "$out-warn/console.log"

"$here/run-vm.sh" -q -k "$kernel" -t 15 -o "$out-hang" -- sleep 60 2>/dev/null
tap_is "a guest that hangs is stopped by the time limit" "$?" 124

# A boot that stalls is given up on once it stops printing, and tried
# again at once: never waited out to the run's whole time limit.
PM_VM_APPEND=pm.stall_boot PM_VM_BOOT_STALL=10 "$here/run-vm.sh" -q -k "$kernel" \
	-t 3600 -o "$out-stall" -- sh -c 'echo never' 2>"$out-stall.err"
tap_is "a stalled boot fails the run" "$?" 124
tap_ok "it was seen to stall, not timed out" grep -q "the boot stalled (nothing printed" "$out-stall.err"
# Once, for the stall.  Under emulation a boot now and then panics on the
# emulator's int3 trap instead; that boot is run again on top, marked in
# boot-retries as not counted (below, with boots played back).
tap_is "and was tried once more" "$(grep -c "printed nothing" "$out-stall/boot-retries" 2>/dev/null)" 1

# An int3 trap in the core kernel's text is emulation missing a text patch
# made on another vCPU: the run is tried again, and passes on its
# second run.  The guest prints the trap itself, on its first run only.
# shellcheck disable=SC2016 # expanded in the guest, from sh -c's arguments
trap_lines='echo "Oops: int3: 0000 [#1] PREEMPT SMP NOPTI" >/dev/kmsg; echo "RIP: 0010:$0+0x2c/0x120 $1" >/dev/kmsg'
"$here/run-vm.sh" -q -k "$kernel" -t 120 -o "$out-int3" -- sh -c \
	"if [ -e /pmshare/trapped ]; then echo second; else touch /pmshare/trapped; $trap_lines; echo first; fi" \
	netif_rx_internal "" 2>/dev/null
tap_is "a run that met an int3 trap in the kernel's own code is run once more" "$?" 0
tap_is "and what counts is the second run" "$(cat "$out-int3/output" 2>/dev/null)" "second"
tap_ok "the retry names the trap's site" grep -q "RIP: 0010:netif_rx_internal" "$out-int3/boot-retries"
tap_ok "and is not counted as one of the run's two tries" \
	grep -q "netif_rx_internal.*; not counted as a try$" "$out-int3/boot-retries"

# In a module's code an int3 is no emulator's: no second chance.
"$here/run-vm.sh" -q -k "$kernel" -t 120 -o "$out-int3mod" -- sh -c \
	"$trap_lines; echo first" pm_hook "[portmaster]" 2>/dev/null
tap_is "an int3 trap in a module's code fails the run" "$?" 126
tap_ok "and is not retried" test ! -e "$out-int3mod/boot-retries"

# The stalled boot's retry once panicked on the emulator's int3 trap at
# boot, and the run said 126 for the trap, not 124 for the stall.  A real
# boot cannot be made to trap, so a stand-in for qemu plays boots back
# (run-vm.sh itself runs as it is): a trap is run again without using
# up a try, and what the guest did stands; traps on every boot still end.
fake=$out-fakeqemu
rm -rf "$fake"
mkdir -p "$fake/bin"
ln -s "$here/selftest/fake-qemu.sh" "$fake/bin/qemu-system-x86_64"
fake_run() {	# BOOTS OUTDIR
	PATH=$fake/bin:$PATH PM_ACCEL=tcg PM_FAKE_QEMU_BOOTS=$1 PM_VM_BOOT_STALL=4 \
		"$here/run-vm.sh" -q -k "$kernel" -t 60 -o "$2" -- true 2>"$2.err"
}
fake_run "stall trap stall" "$fake/stall-trap"
tap_is "a stalled boot whose retry traps fails the run as a stall" "$?" 124
tap_is "the trap's boot was run again, not counted as a try" \
	"$(grep -c "sched_clock_cpu.*; not counted as a try$" "$fake/stall-trap/boot-retries" 2>/dev/null)" 1
tap_is "and the stall was tried once more" \
	"$(grep -c "printed nothing" "$fake/stall-trap/boot-retries" 2>/dev/null)" 1
fake_run "trap trap trap trap trap" "$fake/traps"
tap_is "a guest that traps on every boot fails the run" "$?" 126
tap_is "after two boots not counted, and its two tries" \
	"$(grep -c . "$fake/traps/fake-boots" 2>/dev/null)" 4
tap_done

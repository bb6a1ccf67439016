#!/bin/bash
# A stand-in for qemu-system-x86_64, for the self-test of run-vm.sh's
# retries: no guest runs, each call plays the next boot of a script
# instead, so that boots that stall or trap come when the test wants them
# (a real one cannot be made to trap on the emulator's int3 at boot).
# PM_FAKE_QEMU_BOOTS: one word a boot, in order:
#   stall  prints a line, then nothing (run-vm.sh gives up on it)
#   trap   panics on an int3 trap in the core kernel's text before the
#          command, as the 6.12 guest did under emulation (sched_clock_cpu)
#   pass   runs the command and reports status 0
# Each call adds a line to fake-boots in the run's shared directory.
set -u
console="" share=""
for a in "$@"; do
	case $a in
	file:*) console=${a#file:} ;;
	local,path=*,mount_tag=pmshare,*) share=${a#local,path=}; share=${share%%,*} ;;
	esac
done
if [ -z "$console" ] || [ ! -d "$share" ]; then
	echo "fake-qemu: no console or share in its arguments" >&2
	exit 1
fi
echo boot >>"$share/fake-boots"
n=$(wc -l <"$share/fake-boots")
read -ra boots <<<"${PM_FAKE_QEMU_BOOTS:-}"
what=${boots[n - 1]:-}
echo "[    0.000000] Linux version fake ($what, boot $n)" >"$console"
case $what in
stall)
	exec sleep 3600 ;;
trap)
	cat >>"$console" <<-'END'
	[    1.234567] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
	[    1.234568] CPU: 1 UID: 0 PID: 0 Comm: swapper/1 Not tainted 6.12.0 #1
	[    1.234569] RIP: 0010:sched_clock_cpu+0x11/0x1c0
	[    1.234570] Kernel panic - not syncing: Fatal exception in interrupt
	END
	exit 0 ;;
pass)
	echo "pm-guest: command starts" >>"$console"
	echo fine >"$share/output"
	echo 0 >"$share/status"
	exit 0 ;;
*)
	echo "fake-qemu: boot $n: no such boot '$what'" >&2
	exit 1 ;;
esac

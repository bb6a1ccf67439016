#!/bin/bash
# Boot a kernel in qemu with the host's root read-only over 9p (plus a
# tmpfs overlay for writes), run one command inside, and return its exit
# status and output.  The run fails, whatever the command returned, when
# the kernel log shows a BUG, WARNING, Oops, KASAN report, lockdep splat
# or call trace.
#
# usage: run-vm.sh [-k KERNEL] [-t SECONDS] [-m MEM] [-c CPUS] [-o OUTDIR] [-q] -- CMD...
#   KERNEL  a release in /boot (default: the 6.1 Debian kernel), or a
#           kernel build directory (the debug kernel from
#           scripts/build-kunit-kernel.sh)
#   CPUS    virtual CPUs (default 2)
#   OUTDIR  where console.log, output, dmesg and status are left
#   -q      do not echo the command's output
# Exit: the command's status; 124 on timeout; 125 when the guest did not
# report a status (panic, boot failure); 126 when the kernel log is dirty.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${PM_BUILD:-$repo/build}

kernel=""
timeout=900
mem=1024
cpus=2
outdir=""
quiet=0
while getopts "k:t:m:c:o:q" opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	t) timeout=$OPTARG ;;
	m) mem=$OPTARG ;;
	c) cpus=$OPTARG ;;
	o) outdir=$OPTARG ;;
	q) quiet=1 ;;
	*) echo "usage: $0 [-k KERNEL] [-t SEC] [-m MB] [-c CPUS] [-o DIR] [-q] -- CMD..." >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "run-vm: no command given" >&2; exit 2; }

[ -n "$kernel" ] || kernel=$("$here/kernels.sh" 6.1)

append=""
machine=""
if [ -d "$kernel" ]; then
	# A build tree: 9p, virtio and overlay are built in.  Its minimal
	# config trusts no entropy source (programs would wait a minute for
	# the RNG) and leaves KUnit off by default.  The module's slab caches
	# are marked for failslab (t-attack fails their allocations at will).
	image=$kernel/arch/x86/boot/bzImage
	kver=$(cat "$kernel/include/config/kernel.release")
	modules=""
	append="random.trust_cpu=on kunit.enable=1 slub_debug=A,pm_flow,pm_packet"
	# q35, whose ACPI tables give PCI interrupt routing as plain tables:
	# the i440FX machine's _PRT method builds its table in an AML loop,
	# which under KASAN and emulation ran into ACPI's 30 s loop timeout
	# twice per boot (and without ACPI the kernel finds only one CPU).
	machine="-M q35"
else
	kver=$kernel
	image=/boot/vmlinuz-$kver
	modules="virtio_pci 9pnet_virtio 9p overlay"
fi
[ -r "$image" ] || { echo "run-vm: no kernel image $image" >&2; exit 2; }

[ -n "$outdir" ] || outdir=$build/vm/run-$kver-$$
rm -rf "$outdir"
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# The initramfs: busybox, the modules that reach the 9p root, and init.
initrd=$build/vm/initramfs-$kver.cpio.gz
if [ ! -s "$initrd" ] || [ "$initrd" -ot "$here/guest-init.sh" ] ||
   [ "$initrd" -ot "$0" ]; then
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,sbin,proc,sys,dev,lower,upper,newroot,mods}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$here/guest-init.sh" "$stage/init"
	chmod 755 "$stage/init"
	printf '#!/bin/busybox sh\nexec /bin/busybox chroot /newroot /sbin/modprobe "$@"\n' \
		>"$stage/sbin/modprobe"
	chmod 755 "$stage/sbin/modprobe"
	: >"$stage/mods/order"
	n=0
	for m in $modules; do
		modprobe --show-depends -S "$kver" "$m" | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++' | while read -r ko; do
		n=$((n + 1))
		dst=$(printf '%02d-%s' "$n" "$(basename "${ko%.xz}")")
		case $ko in
		*.xz) xz -dc "$ko" >"$stage/mods/$dst" ;;
		*.zst) zstd -qdc "$ko" >"$stage/mods/$dst" ;;
		*) cp "$ko" "$stage/mods/$dst" ;;
		esac
		echo "$dst" >>"$stage/mods/order"
	done
	mkdir -p "$(dirname "$initrd")"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$stage"
	trap - EXIT
fi

# The command runs in the guest from the same directory, with the same
# PM_* environment, as here.
{
	echo "cd $(printf '%q' "$PWD") || exit 125"
	env | grep -E '^(PM_[A-Z0-9_]+|V)=' | sed 's/^/export /; s/=\(.*\)/="\1"/' || true
	echo "export PM_GUEST=1 PM_KVER=$(printf '%q' "$kver")"
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$outdir/guest.sh"

accel=$("$here/accel.sh")
cpu="-cpu max"
[ "$accel" = kvm ] && cpu="-cpu host"

# A boot can fail, stall, or the kernel splat, before the command starts
# (software emulation is not perfectly reliable: the debug kernel once
# reported KASAN in identify_boot_cpu, and once stopped printing for good
# 1.7 s into its boot): that says nothing about the code under test,
# which is not loaded yet, so such a boot is tried once more, at once.
# A guest that prints nothing for $boot_stall seconds before the command
# starts has stalled; boots seen here print every few seconds.  Anything
# after the command started counts, and so does a second boot's trouble
# (but not the emulator's own trap, below: it is not one of the tries).
boot_stall=${PM_VM_BOOT_STALL:-120}

# Runs qemu; sets qrc, and stalled=1 when the boot made no progress.
run_qemu() {
	local started=0 last_size=-1 quiet_for=0 size
	stalled=0
	timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
		-accel "$accel" $machine $cpu -m "$mem" -smp "$cpus" \
		-display none -monitor none -serial "file:$outdir/console.log" \
		-no-reboot -nic none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,path="$outdir",mount_tag=pmshare,security_model=none,multidevs=remap \
		-kernel "$image" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 mitigations=off 8250.nr_uarts=1 rdinit=/init $append ${PM_VM_APPEND:-}" \
		${PM_VM_QEMU_ARGS:-} \
		</dev/null >"$outdir/qemu.log" 2>&1 &
	local qpid=$!
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 2
		[ "$started" = 1 ] && continue
		if grep -q "pm-guest: command starts" "$outdir/console.log" 2>/dev/null; then
			started=1
			continue
		fi
		size=$(stat -c %s "$outdir/console.log" 2>/dev/null || echo 0)
		if [ "$size" = "$last_size" ]; then
			quiet_for=$((quiet_for + 2))
		else
			quiet_for=0
			last_size=$size
		fi
		if [ "$quiet_for" -ge "$boot_stall" ]; then
			stalled=1
			# Either may be gone already (timeout exits as soon as
			# qemu does): not a failure, under set -e, of the run.
			pkill -KILL -P "$qpid" 2>/dev/null || true
			kill -KILL "$qpid" 2>/dev/null || true
			break
		fi
	done
	set +e
	wait "$qpid"
	qrc=$?
	set -e
}

# Software emulation with several vCPUs now and then misses a kernel text
# patch made on another vCPU (a static key switched while traffic runs
# through its site): that vCPU traps on the int3 the patch left behind,
# an "int3: 0000 [#1]" Oops in Debian's kernel code (netif_rx_internal,
# nf_ct_get_id), which no real CPU does.  Such a run says nothing about
# the code under test and is run again, whatever the command was.
# A trap in a module's code (its RIP names the module) is not retried.
# Prints the trap's site; fails when the log shows no such trap.
emulator_trap() {	# CONSOLE_LOG
	local oops='(Oops: )?int3: [0-9a-f]{4} \[#[0-9]+\]' site
	grep -Eq "$oops" "$1" || return 1
	site=$(grep -A12 -E "$oops" "$1" | grep -m1 -o 'RIP: .*' || true)
	case $site in
	*"["*"]"*) return 1 ;;	# "RIP: 0010:pm_hook+0x10/0x200 [portmaster]"
	esac
	echo "${site:-RIP unknown}"
}

# An emulator trap, during the command or in a boot that panicked on
# one before it (the self-test's stalled boot once took one in
# sched_clock_cpu on its retry, and the run said 126 where a stall means
# 124), does not use up one of the two tries: it says nothing about the
# guest, and a trap on the second try would stand in for what the guest
# did.  Up to $max_traps runs that trap are run again on top of the two;
# a trap after those counts as a try like any other trouble (a trap that
# comes back run after run is no longer chance).  boot-retries marks the
# retries that were not counted.
max_traps=2
traps=0
attempt=1
while :; do
	# (the console log too: every run's is searched for a trap)
	rm -f "$outdir/status" "$outdir/output" "$outdir/dmesg" "$outdir/kmemleak" \
		"$outdir/console.log"
	run_qemu
	keep=console-failed-boot.log
	counted=1
	if site=$(emulator_trap "$outdir/console.log"); then
		why="the guest trapped on a kernel text patch under emulation ($site)"
		n=""
		[ "$traps" -gt 0 ] && n=-$((traps + 1))
		keep=console-int3$n.log
		cp "$outdir/output" "$outdir/output-int3$n" 2>/dev/null || true
		if [ "$traps" -lt "$max_traps" ]; then
			traps=$((traps + 1))
			counted=0
		elif [ "$attempt" = 2 ]; then
			break
		fi
	elif [ "$stalled" = 1 ]; then
		why="the guest printed nothing for ${boot_stall}s while booting"
		[ "$attempt" = 2 ] && { qrc=124; break; }
	elif grep -q "pm-guest: command starts" "$outdir/console.log"; then
		[ "$attempt" = 2 ] && break
		sed '/pm-guest: command starts/q' "$outdir/console.log" >"$outdir/console-boot.log"
		if ! "$here/kernel-log-check.sh" "$outdir/console-boot.log" 2>/dev/null; then
			why="the kernel log showed a splat while booting, before the command started"
		else
			break
		fi
	else
		[ "$attempt" = 2 ] && break
		why="the boot failed before the command started"
	fi
	cp "$outdir/console.log" "$outdir/$keep"
	if [ "$counted" = 1 ]; then
		attempt=2
		echo "run-vm: $kver: $why; trying once more (see $keep)" >&2
		echo "$kver: $why" >>"$outdir/boot-retries"
	else
		echo "run-vm: $kver: $why; trying again, not counted as a try (see $keep)" >&2
		echo "$kver: $why; not counted as a try" >>"$outdir/boot-retries"
	fi
done

[ "$quiet" = 1 ] || cat "$outdir/output" 2>/dev/null || true

if [ "$stalled" = 1 ]; then
	echo "run-vm: $kver: the boot stalled (nothing printed for ${boot_stall}s), on its retry too" >&2
	tail -n 30 "$outdir/console.log" >&2 || true
	exit 124
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "run-vm: $kver: timed out after ${timeout}s" >&2
	tail -n 30 "$outdir/console.log" >&2 || true
	exit 124
fi

if ! "$here/kernel-log-check.sh" "$outdir/console.log" "$outdir/dmesg"; then
	echo "run-vm: $kver: kernel log is not clean (see $outdir/console.log)" >&2
	exit 126
fi

if [ ! -s "$outdir/status" ]; then
	echo "run-vm: $kver: the guest reported no status (qemu exit $qrc)" >&2
	tail -n 30 "$outdir/console.log" >&2 || true
	cat "$outdir/qemu.log" >&2 || true
	exit 125
fi
exit "$(cat "$outdir/status")"

#!/bin/bash
# Benchmark of portmaster.ko, in one qemu run of a Debian kernel: new TCP
# connections/s, new UDP flows/s and bulk TCP throughput across a veth
# pair with no firewall, with conntrack alone, and with the module and a
# listener that answers 1710; printed as ratios to no firewall (median of
# the rounds).  Timed by the instructions the guest executes (see below),
# so the host's load does not change the result, only how long it takes.
# usage: bench/module.sh [SERIES] [SECONDS] [ROUNDS]   (or make bench-module)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
series=${1:-6.1}
export PM_BENCH_SECONDS=${2:-4} PM_BENCH_ROUNDS=${3:-5}
cd "$top"
kver=$(tests/vm/kernels.sh "$series")
scripts/build-module.sh "/lib/modules/$kver/build" >/dev/null
make -s tools
mkdir -p build/bin
gcc -O2 -Wall -Wextra -o build/bin/conn_bench bench/conn_bench.c
gcc -O2 -Wall -Wextra -o build/bin/udp_bench bench/udp_bench.c
# shellcheck disable=SC2046
gcc -O2 -Wall -Iinclude/uapi -o build/bin/trivial_verdict bench/trivial_verdict.c \
	$(pkg-config --cflags --libs libnetfilter_queue libmnl)
make -s daemon
out=build/bench/module-$kver
mkdir -p "$out"
# Under software emulation the guest's clock runs by the host's, and how
# fast the host emulates (its translation cache, its other load, how fast
# one emulated CPU wakes another) made single rounds of one configuration
# differ by a third.  So by default the guest has one virtual CPU and a
# clock driven by the instructions it executes (qemu -icount, 2^SHIFT ns
# each, idle time skipped): a rate is then flows per second of executed
# instructions, the same on a busy or an idle host, and a ratio is what a
# configuration costs in instructions.  It does not see cache misses or
# slow atomics; PM_BENCH_ICOUNT=off measures by the host's clock instead
# (PM_BENCH_CPUS virtual CPUs, default 1).
cpus=${PM_BENCH_CPUS:-1}
icount=${PM_BENCH_ICOUNT:-2}
clock="the host's clock"
if [ "$icount" != off ] && [ "$(tests/vm/accel.sh)" != kvm ]; then
	export PM_ACCEL="tcg,thread=single" PM_VM_QEMU_ARGS="-icount shift=$icount,sleep=off,align=off"
	[ "$cpus" = 1 ] || { echo "bench: -icount needs one virtual CPU" >&2; exit 2; }
	clock="instructions (qemu -icount shift=$icount)"
fi
tests/vm/run-vm.sh -q -k "$kver" -m 2048 -c "$cpus" -t 3600 -o "$out/vm" -- bash bench/module-guest.sh
cp "$out/vm/output" "$out/raw.txt"
grep "^#" "$out/raw.txt" | grep -v "^# profile" | tail -n 30 || true
grep "^# profile" "$out/raw.txt" || true
echo "portmaster.ko on $kver, $cpus vCPU, ${PM_BENCH_SECONDS}s x ${PM_BENCH_ROUNDS} rounds (median), accel ${PM_ACCEL:-$(tests/vm/accel.sh)}, timed by $clock"
awk -f bench/ratios.awk "$out/raw.txt" | tee "$out/ratios.txt"

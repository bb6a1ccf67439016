#!/bin/bash
# Benchmark of portmaster.ko, in one qemu run of a Debian kernel: new TCP
# connections/s, new UDP flows/s and bulk TCP throughput across a veth
# pair with no firewall, with conntrack alone, and with the module and a
# listener that answers 1710; printed as ratios to no firewall (median of
# the rounds).  Software emulation slows everything alike; the ratios are
# what to compare, and the machine should be otherwise idle.
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
tests/vm/run-vm.sh -q -k "$kver" -m 2048 -t 3600 -o "$out/vm" -- bash bench/module-guest.sh
cp "$out/vm/output" "$out/raw.txt"
grep "^#" "$out/raw.txt" | grep -v "^# profile" | tail -n 30 || true
grep "^# profile" "$out/raw.txt" || true
echo "portmaster.ko on $kver, ${PM_BENCH_SECONDS}s x ${PM_BENCH_ROUNDS} rounds (median), accel $(tests/vm/accel.sh)"
awk -f bench/ratios.awk "$out/raw.txt" | tee "$out/ratios.txt"

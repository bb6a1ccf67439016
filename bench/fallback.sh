#!/bin/bash
# Benchmark of the fallback, in one run, in network namespaces joined by a
# veth pair: new TCP connections per second and bulk TCP throughput with
#   none         no firewall
#   portmasterd  the fallback with real rules (one matches on an executable,
#                so every flow is attributed before its verdict), default allow
#   pmd+history  the same with the history on (SQLite, conntrack totals)
#   trivial      the seed's rules + a C program that marks everything 1710
#   opensnitchd  Debian's opensnitch 1.5.8, default action allow, /proc monitor
# and the ratio of each to no firewall.  Run as root: make bench-fallback
# [BENCH_SECONDS=4 BENCH_ROUNDS=3], or bench/fallback.sh [SECONDS] [ROUNDS].
# The machine should be otherwise idle: other load (a qemu test run, say)
# moves the ratios by a lot from one run to the next.
set -u
SECS=${1:-4}
ROUNDS=${2:-3}
[ -n "$SECS" ] || SECS=4
[ -n "$ROUNDS" ] || ROUNDS=3
INFLIGHT=${INFLIGHT:-4}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BIN=${BIN:-$TOP/build/bin}
C=pmb-c-$$
S=pmb-s-$$
WORK=$(mktemp -d /tmp/pmbench.XXXXXX)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null
	sleep 0.2
	ip netns del "$C" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "bench: kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() { echo "bench: $*" >&2; exit 1; }
inc() { ip netns exec "$C" "$@"; }
ins() { ip netns exec "$S" "$@"; }

[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$BIN/portmasterd" ] || die "no $BIN/portmasterd (make daemon)"
command -v iperf3 >/dev/null || die "iperf3 missing (make deps)"
PKGS="$(pkg-config --cflags --libs libnetfilter_queue libmnl)"
gcc -O2 -Wall -o "$WORK/conn_bench" "$HERE/conn_bench.c" || die "cannot build conn_bench"
# shellcheck disable=SC2086
gcc -O2 -Wall -I"$TOP/include/uapi" -o "$WORK/trivial_verdict" "$HERE/trivial_verdict.c" $PKGS ||
	die "cannot build trivial_verdict"

# Every configuration gets fresh namespaces, so that nothing one leaves
# behind (rules, conntrack entries, sockets) weighs on the next.
fresh_ns() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	PIDS=()
	ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null
	sleep 0.2
	ip netns del "$C" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns add "$C" && ip netns add "$S" || die "cannot create namespaces"
	ip link add pmb0 netns "$C" type veth peer name pmb1 netns "$S"
	inc ip link set lo up; ins ip link set lo up
	inc ip addr add 10.78.0.1/24 dev pmb0; ins ip addr add 10.78.0.2/24 dev pmb1
	inc ip link set pmb0 up; ins ip link set pmb1 up
	for ns in "$C" "$S"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
	done
	ins "$WORK/conn_bench" server 5001 & PIDS+=($!)
	ins iperf3 -s -p 5201 >/dev/null 2>&1 & PIDS+=($!)
	sleep 0.5
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# CPU time (clock ticks) of each thread of process $1: "name ticks" lines.
thread_ticks() {
	for t in /proc/"$1"/task/*; do
		echo "$(cat "$t/comm") $(awk '{ print $14 + $15 }' "$t/stat")"
	done 2>/dev/null | sort
}

conn_rate() {
	for _ in $(seq "${INNER:-$ROUNDS}"); do
		[ -n "${CPU_OF:-}" ] && thread_ticks "$CPU_OF" >"$WORK/ticks.before"
		inc "$WORK/conn_bench" client 10.78.0.2 5001 "$SECS" "$INFLIGHT" | awk '{ print $1 }'
		[ -n "${CPU_OF:-}" ] && thread_ticks "$CPU_OF" >"$WORK/ticks.after"
		inc conntrack -F >/dev/null 2>&1
	done | median
}

throughput() {
	inc iperf3 -c 10.78.0.2 -p 5201 -t "$SECS" -J 2>/dev/null |
		python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))' 2>/dev/null ||
		echo 0
}

declare -A CONN BULK
measure() { # name
	CONN[$1]=$(conn_rate)
	BULK[$1]=$(throughput)
	printf '  %-12s %8s conn/s  %6.2f Gbit/s\n' "$1" "${CONN[$1]}" "$(echo "${BULK[$1]} / 1000000000" | bc -l)"
}

echo "bench: $SECS s per run, median of $ROUNDS, $INFLIGHT connects in flight, $(nproc) CPUs"
fresh_ns
measure none

# portmasterd, real rules, default allow; without and with the history
# (written in batches by its own thread, conntrack accounting on).
mkdir -p "$WORK/etc"
cp "$HERE/rules.conf" "$WORK/etc/rules.conf"
run_pmd() { # name [portmasterd args...]
	local name=$1
	shift
	fresh_ns
	rm -f "$WORK/pm.sock"
	inc "$BIN/portmasterd" --foreground --config "$WORK/etc" --socket "$WORK/pm.sock" \
		--ui off "$@" >"$WORK/pmd.log" 2>&1 & PMD=$!
	for _ in $(seq 50); do [ -S "$WORK/pm.sock" ] && break; sleep 0.1; done
	[ -S "$WORK/pm.sock" ] || { cat "$WORK/pmd.log"; die "portmasterd did not start"; }
	CPU_OF=$(pgrep -x -n portmasterd)
	INNER=1 measure "$name"
	# What the burst cost each of portmasterd's threads, per connection
	# (the main thread decides; pm-history writes the history).
	read -r CPU_MAIN CPU_WRITER < <(join "$WORK/ticks.before" "$WORK/ticks.after" | awk \
		-v hz="$(getconf CLK_TCK)" -v n="$(( CONN[$name] * SECS ))" '
		{ us = ($3 - $2) * 1e6 / hz / (n ? n : 1) }
		$1 == "portmasterd" { m = us } $1 == "pm-history" { w = us }
		END { printf "%.2f %.2f\n", m, w }')
	CPU_OF=
	echo "    CPU per connection: main thread ${CPU_MAIN} us, pm-history ${CPU_WRITER} us"
	"$BIN/pmctl" -s "$WORK/pm.sock" -t status | awk -F'\t' '
		$1 == "packets" || $1 == "attrib_ok" || $1 == "attrib_fail" || $1 == "attrib_avg_ns" ||
		$1 == "overruns" || $1 == "history_written" || $1 == "history_lost" ||
		$1 == "history_bytes" || $1 == "ct_ends" || $1 ~ /^history_hurried_/ {
			printf "    %s=%s", $1, $2 } END { print "" }'
	kill "$PMD"; wait "$PMD" 2>/dev/null
}
# Off and on taken in turns, so that whatever else the machine does
# weighs on both alike; the table shows the median of each.
declare -a OFF_C ON_C OFF_B ON_B OFF_M ON_M ON_W
for r in $(seq "$ROUNDS"); do
	rm -f "$WORK"/history.db*
	run_pmd portmasterd --history off
	OFF_C+=("${CONN[portmasterd]}"); OFF_B+=("${BULK[portmasterd]}"); OFF_M+=("$CPU_MAIN")
	run_pmd pmd+history --history "$WORK/history.db"
	ON_C+=("${CONN[pmd+history]}"); ON_B+=("${BULK[pmd+history]}"); ON_M+=("$CPU_MAIN")
	ON_W+=("$CPU_WRITER")
	[ "$r" = 1 ] && [ -f "$WORK/history.db" ] && sqlite3 "$WORK/history.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null &&
		echo "    history: $(sqlite3 "$WORK/history.db" 'SELECT count(*) FROM flows') flows, $(stat -c %s "$WORK/history.db") bytes: $(( $(stat -c %s "$WORK/history.db") / $(sqlite3 "$WORK/history.db" 'SELECT max(1, count(*)) FROM flows') )) bytes per flow"
done
CONN[portmasterd]=$(printf '%s\n' "${OFF_C[@]}" | median)
CONN[pmd+history]=$(printf '%s\n' "${ON_C[@]}" | median)
BULK[portmasterd]=$(printf '%s\n' "${OFF_B[@]}" | median)
BULK[pmd+history]=$(printf '%s\n' "${ON_B[@]}" | median)
echo "  history off: ${OFF_C[*]} conn/s; on: ${ON_C[*]} conn/s"
# Each round's on/off pair ran side by side in time: the median of their
# ratios is less moved by the machine's drift than the medians' ratio.
PAIR_RATIO=$(for i in "${!OFF_C[@]}"; do echo "${ON_C[$i]} / ${OFF_C[$i]}" | bc -l; done | median)

# The seed's rules from portmasterd itself: SIGKILL leaves them in place.
fresh_ns
rm -f "$WORK/pm.sock"
inc "$BIN/portmasterd" --foreground --config "$WORK/etc" --socket "$WORK/pm.sock" \
	--history off --ui off >/dev/null 2>&1 & PMD=$!
for _ in $(seq 50); do [ -S "$WORK/pm.sock" ] && break; sleep 0.1; done
kill -KILL "$PMD"; wait "$PMD" 2>/dev/null
inc "$WORK/trivial_verdict" >"$WORK/trivial.log" 2>&1 & TRIV=$!
sleep 0.3
measure trivial
kill "$TRIV" 2>/dev/null; wait "$TRIV" 2>/dev/null

if command -v opensnitchd >/dev/null; then
	fresh_ns
	mkdir -p "$WORK/osrules"
	inc opensnitchd -rules-path "$WORK/osrules" -process-monitor-method proc \
		-ui-socket "unix://$WORK/osui.sock" -log-file "$WORK/os.log" >/dev/null 2>&1 & OSD=$!
	for _ in $(seq 50); do inc iptables-save 2>/dev/null | grep -q NFQUEUE && break; sleep 0.2; done
	if inc iptables-save 2>/dev/null | grep -q NFQUEUE; then
		sleep 1
		measure opensnitchd
	else
		echo "  opensnitchd  did not install its rules (see $WORK/os.log): skipped"
	fi
	kill "$OSD" 2>/dev/null; wait "$OSD" 2>/dev/null
else
	echo "  opensnitchd  not installed (apt-get install opensnitch): skipped"
fi

echo
echo "ratios to no firewall (same run):"
printf '  %-12s %10s %10s\n' "" "conn/s" "bulk"
for k in portmasterd pmd+history trivial opensnitchd; do
	[ -n "${CONN[$k]:-}" ] || continue
	printf '  %-12s %10.2f %10.2f\n' "$k" \
		"$(echo "${CONN[$k]} / ${CONN[none]}" | bc -l)" \
		"$(echo "${BULK[$k]} / ${BULK[none]}" | bc -l)"
done
echo
printf 'CPU per connection (medians): main thread %s us with the history off, %s us on; pm-history %s us\n' \
	"$(printf '%s\n' "${OFF_M[@]}" | median)" "$(printf '%s\n' "${ON_M[@]}" | median)" \
	"$(printf '%s\n' "${ON_W[@]}" | median)"
printf 'history on / off (same run): conn/s %.3f (median of %d rounds'"'"' ratios; ratio of medians %.3f), bulk %.3f\n' \
	"$PAIR_RATIO" "${#OFF_C[@]}" \
	"$(echo "${CONN[pmd+history]} / ${CONN[portmasterd]}" | bc -l)" \
	"$(echo "${BULK[pmd+history]} / ${BULK[portmasterd]}" | bc -l)"

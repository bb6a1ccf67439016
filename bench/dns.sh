#!/bin/bash
# make bench-dns: portmasterd's resolver against the same upstream queried
# directly, in one run, with dnsperf from Debian, in network namespaces:
#   upstream   dnsmasq in the server namespace, asked directly (the baseline)
#   firewall   the same, with portmasterd's rules in place (reroute off):
#              what the firewall alone costs every query
#   cached     through portmasterd, the same 100 names over and over
#   uncached   through portmasterd, every name new (each one forwarded)
#   history    cached again with the history on: each query published on
#              the event bus and written by the history's thread
# Queries per second and the ratio of each to the upstream queried with
# the same names.  Then the blocklist at a million entries: bytes an entry
# and the time of a lookup.  Run as root on an idle machine:
# make bench-dns [BENCH_SECONDS=5], or bench/dns.sh [SECONDS].
set -u
SECS=${1:-5}
[ -n "$SECS" ] || SECS=5
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BIN=${BIN:-$TOP/build/bin}
C=pmd-c-$$
S=pmd-s-$$
WORK=$(mktemp -d /tmp/pmdnsbench.XXXXXX)
PIDS=()
DAEMON=

cleanup() {
	[ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null
	sleep 0.2
	ip netns del "$C" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() { echo "bench-dns: $*" >&2; exit 1; }
inc() { ip netns exec "$C" "$@"; }

[ "$(id -u)" = 0 ] || die "needs root"
for t in dnsperf dnsmasq; do command -v $t >/dev/null || die "$t missing (make deps)"; done
[ -x "$BIN/portmasterd" ] || die "no $BIN/portmasterd (make daemon)"

ip netns add "$C" && ip netns add "$S" || die "cannot create namespaces"
ip link add pmdb0 netns "$C" type veth peer name pmdb1 netns "$S"
inc ip link set lo up; ip -n "$S" link set lo up
inc ip addr add 10.79.0.1/24 dev pmdb0; ip -n "$S" addr add 10.79.0.2/24 dev pmdb1
inc ip link set pmdb0 up; ip -n "$S" link set pmdb1 up

# The upstream answers every name under bench.test from its configuration,
# with a TTL that lets a cache keep it (--address alone says 0).
ip netns exec "$S" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.79.0.2 --pid-file= --user=root --address=/bench.test/10.79.0.9 \
	--local-ttl=300 \
	--dns-forward-max=1000 >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do ip netns exec "$S" ss -Hlnu 'sport = :53' | grep -q . && break; sleep 0.1; done

for i in $(seq 1 100); do echo "w$i.bench.test A"; done >"$WORK/cached.txt"
# more names than dnsperf can ask in the run: none is asked twice
awk -v n=$((SECS * 150000)) 'BEGIN { for (i = 0; i < n; i++) printf "u%d.bench.test A\n", i }' \
	>"$WORK/unique.txt"

# perf SERVER FILE: queries per second
perf() {
	inc dnsperf -s "$1" -d "$2" -l "$SECS" -c 4 -q 200 -t 2 2>/dev/null |
		awk '/Queries per second/ { print $4 }'
}

echo "bench-dns: ${SECS}s a run, dnsperf -c 4 -q 200, upstream dnsmasq in another namespace"
up_cached=$(perf 10.79.0.2 "$WORK/cached.txt")
up_unique=$(perf 10.79.0.2 "$WORK/unique.txt")

mkdir -p "$WORK/etc"
# daemon CONFIG-LINE...: portmasterd (fallback mode) with this configuration,
# the history off unless HIST names a file (never the system's), no web UI
daemon() {
	[ -n "$DAEMON" ] && kill "$DAEMON" && wait "$DAEMON" 2>/dev/null
	printf '%s\n' "mode = nfqueue" "upstream = 10.79.0.2" "$@" >"$WORK/etc/portmasterd.conf"
	# not through inc(): $! must be the daemon itself, or the kill above
	# leaves it running on the resolver's port and the next one cannot start
	ip netns exec "$C" "$BIN/portmasterd" --foreground --config "$WORK/etc" \
		--socket "$WORK/ctl.sock" --history "${HIST:-off}" --ui off >"$WORK/pmd.log" 2>&1 &
	DAEMON=$!
	for _ in $(seq 1 100); do
		PMCTL_SOCKET=$WORK/ctl.sock "$BIN/pmctl" status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	die "portmasterd did not start: $(tail -3 "$WORK/pmd.log")"
}
# The upstream asked directly with the firewall in place (its rules and
# conntrack on every packet, as for the resolver's), nothing rerouted.
daemon "reroute_dns = no" "prevent_bypass = no"
fw_cached=$(perf 10.79.0.2 "$WORK/cached.txt")
daemon
# warm the cache once
inc dnsperf -s 127.0.0.17 -d "$WORK/cached.txt" -n 1 >/dev/null 2>&1
pm_cached=$(perf 127.0.0.17 "$WORK/cached.txt")
pm_unique=$(perf 127.0.0.17 "$WORK/unique.txt")
# The same with the history on: every query published and written
HIST=$WORK/history.db daemon
inc dnsperf -s 127.0.0.17 -d "$WORK/cached.txt" -n 1 >/dev/null 2>&1
pm_cached_hist=$(perf 127.0.0.17 "$WORK/cached.txt")
hist_stats=$(PMCTL_SOCKET=$WORK/ctl.sock "$BIN/pmctl" -t status |
	awk -F'\t' '$1 == "history_written" || $1 == "history_lost" {printf "%s %s  ", $1, $2}')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\n| %-38s | %10s | %8s |\n' "queries/s (same run)" "q/s" "ratio"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..40})" "------------" "----------"
printf '| %-38s | %10.0f | %8s |\n' "upstream (dnsmasq) directly, 100 names" "$up_cached" "1.00"
printf '| %-38s | %10.0f | %8s |\n' "upstream directly, firewall on" "$fw_cached" "$(ratio "$fw_cached" "$up_cached")"
printf '| %-38s | %10.0f | %8s |\n' "portmasterd, cached (100 names)" "$pm_cached" "$(ratio "$pm_cached" "$up_cached")"
printf '| %-38s | %10.0f | %8s |\n' "portmasterd, cached, history on" "$pm_cached_hist" "$(ratio "$pm_cached_hist" "$up_cached")"
printf '| %-38s | %10.0f | %8s |\n' "upstream directly, every name new" "$up_unique" "1.00"
printf '| %-38s | %10.0f | %8s |\n' "portmasterd, uncached (every name new)" "$pm_unique" "$(ratio "$pm_unique" "$up_unique")"
echo "  history on / off, cached: $(ratio "$pm_cached_hist" "$pm_cached") ($hist_stats)"
PMCTL_SOCKET=$WORK/ctl.sock "$BIN/pmctl" -t status | grep -E '^dns_(queries|answered|servfail|dropped)' | tr '\t' ' ' | sed 's/^/  /'

echo
echo "blocklist, 1,000,000 entries (hosts format):"
"$TOP/build/bench/blocklist_bench" 1000000 4000000 | sed 's/^/  /'

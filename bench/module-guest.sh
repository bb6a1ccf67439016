# Guest side of bench/module.sh: in network namespaces joined by a veth
# pair, measure new TCP connections/s, new UDP flows/s and bulk TCP
# throughput under three configurations, ROUNDS times, interleaved:
#   none      no firewall: portmaster.ko not loaded, no conntrack
#   ct        conntrack alone (switched on by an nftables rule on the
#             forward hook, which local traffic never passes): the floor
#             of any conntrack-based firewall; the module is loaded, and
#             with no listener it has no hook in the namespace
#   module    portmaster.ko with a listener that answers every flow 1710
#   remember  the same, the listener asking the module to remember each
#             verdict for a minute (flows like a decided one are decided in
#             the kernel and only reported)
#   pmd       portmaster.ko with portmasterd deciding from real rules, with
#             the process of every flow attributed (the default
#             configuration: verdicts remembered for a minute)
#   pmdhist   the same with the history on (SQLite, conntrack totals)
#   pmd0      pmd with remember = 0: every flow asked
#   nfqueue   the seed's iptables chains and NFQUEUE, with a C program that
#             answers every packet 1710 (the path the module replaces)
# Prints one line per measurement: CONFIG METRIC VALUE
set -u
SECS=${PM_BENCH_SECONDS:-4}
ROUNDS=${PM_BENCH_ROUNDS:-3}
INFLIGHT=${PM_BENCH_INFLIGHT:-4}	# connections or queries in flight at once
BIN=$PWD/build/bin
KO=build/kmod/$(uname -r)/kmod/portmaster.ko
C=bc
S=bs

for m in $(modinfo -F depends "$KO" | tr , ' '); do modprobe "$m"; done
# A small guest sizes conntrack for a few thousand entries; a storm of
# new flows needs room, or early drops decide the result.
echo 262144 >/sys/module/nf_conntrack/parameters/hashsize
sysctl -qw net.netfilter.nf_conntrack_max=1048576

# Under -icount an idle guest's clock jumps to its next timer, so a fixed
# sleep may end before a program read from the host has even started:
# wait for what each configuration needs to be in place (at most 20 s of
# the guest's clock; a '#' line says what never came).
ready() {	# WHAT CMD...
	local what=$1 i
	shift
	for i in $(seq 200); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "# not ready: $what"
	return 1
}
listening() {	# PROTO PORT: a socket of the server's namespace bound to it
	ip netns exec $S ss -Hln "$1" "sport = :$2" | grep -q .
}
registered() {	# the module has a listener in the client's namespace
	ip netns exec $C "$BIN/pm-listener" stats | grep -qx 'listener_state=1'
}
queues_bound() {	# the four queues of the seed's chains
	[ "$(ip netns exec $C cat /proc/net/netfilter/nfnetlink_queue | wc -l)" -ge 4 ]
}

setup() {
	settle "${1:-?}"
	ip netns add $C
	ip netns add $S
	ip link add v0 netns $C type veth peer name v1 netns $S
	ip -n $C addr add 10.9.0.1/24 dev v0
	ip -n $S addr add 10.9.0.2/24 dev v1
	for ns in $C $S; do ip -n $ns link set lo up; done
	ip -n $C link set v0 up
	ip -n $S link set v1 up
	ip netns exec $C sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
	ip netns exec $S "$BIN/conn_bench" server 5001 &
	ip netns exec $S "$BIN/udp_bench" server 6000 64 &
	ip netns exec $S iperf3 -s -p 5201 >/dev/null 2>&1 &
	ready "the TCP server" listening -t 5001
	ready "the UDP server" listening -u 6000
	ready "iperf3" listening -t 5201
}

# Conntrack on in the client's namespace at no cost per packet: a ct
# expression on a hook that local traffic never passes.  Every
# configuration but "none" has it, so that they differ only in the module.
conntrack_on() {
	ip netns exec $C nft -f - <<-'EOF'
	table inet ctonly {
		chain watch { type filter hook forward priority 0; ct state new counter; }
	}
	EOF
}

teardown() {
	ip netns pids $C | xargs -r kill 2>/dev/null
	ip netns pids $S | xargs -r kill 2>/dev/null
	sleep 0.3
}

# Deleting a namespace frees its conntrack entries, sockets and routes
# later, in a kworker: tens of thousands of entries after a fast
# configuration.  Measured beside that cleanup, the next configuration
# pays for the previous one; so before each measurement wait until the
# entries are gone and the CPUs have been 90% idle for a second (at most
# 60 s; what was waited for is printed as a '#' line).
cpu_ticks() {	# busy and all ticks of the guest so far
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}
busy_since() {	# TICKS: the share of CPU time busy since cpu_ticks gave TICKS
	echo "$1 $(cpu_ticks)" | awk '{ t = $4 - $2; print (t > 0 ? int(100 * ($3 - $1) / t) : 0) }'
}

ct_objects() {
	awk '$1 == "nf_conntrack" { print $2; f = 1 } END { if (!f) print 0 }' /proc/slabinfo
}
idle_share() {	# percent of CPU time idle over one second
	local t

	t=$(cpu_ticks)
	sleep 1
	echo $((100 - $(busy_since "$t")))
}
settle() {	# LABEL
	local t0=$SECONDS n i
	ip netns del $C 2>/dev/null
	ip netns del $S 2>/dev/null
	while :; do
		n=$(ct_objects)
		i=$(idle_share)
		[ "$n" -lt 2000 ] && [ "$i" -ge 90 ] && break
		[ $((SECONDS - t0)) -ge 60 ] && break
	done
	echo "# settle before $1: $((SECONDS - t0)) s, $n conntrack objects, ${i}% idle"
}

measure() {	# CONFIG
	local v t
	t=$(cpu_ticks)
	v=$(ip netns exec $C "$BIN/conn_bench" client 10.9.0.2 5001 "$SECS" "$INFLIGHT" | awk '{print $1}')
	echo "$1 tcp_conn_per_s ${v:-0}"
	echo "# $1 tcp_conn: CPUs $(busy_since "$t")% busy"
	t=$(cpu_ticks)
	v=$(ip netns exec $C "$BIN/udp_bench" client 10.9.0.2 6000 64 "$SECS" "$INFLIGHT" | awk '{print $1}')
	echo "$1 udp_flows_per_s ${v:-0}"
	echo "# $1 udp_flows: CPUs $(busy_since "$t")% busy"
	v=$(ip netns exec $C iperf3 -c 10.9.0.2 -p 5201 -t "$SECS" -J 2>/dev/null |
		sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' | tail -n 1)
	echo "$1 tcp_bulk_bits_per_s ${v:-0}"
}

# portmasterd with real rules (one on an executable: every flow is
# attributed before its verdict), default allow
PMD_CONF=$(mktemp -d)
cp config/portmasterd.conf bench/rules.conf "$PMD_CONF/"
PMD0_CONF=$(mktemp -d)
cp bench/rules.conf "$PMD0_CONF/"
sed 's/^remember = .*/remember = 0/' config/portmasterd.conf >"$PMD0_CONF/portmasterd.conf"

# The module loaded: a namespace pair with conntrack on, and what CONFIG
# decides with.
start_config() {	# CONFIG
	local conf=$PMD_CONF hist=off

	setup "$1"
	conntrack_on
	case $1 in
	ct) ;;
	module) ip netns exec $C "$BIN/pm-listener" listen --answer 1710 --quiet &
		ready "pm-listener" registered ;;
	remember) ip netns exec $C "$BIN/pm-listener" listen --answer 1710 --remember-ms 60000 --quiet &
		ready "pm-listener" registered ;;
	pmd | pmd0 | pmdhist)
		[ "$1" = pmd0 ] && conf=$PMD0_CONF
		[ "$1" = pmdhist ] && hist=$PMD_CONF/history.db
		ip netns exec $C "$BIN/portmasterd" --mode kmod --foreground --config "$conf" \
			--socket /run/pmbench.sock --ui off --history "$hist" >/dev/null 2>&1 &
		ready "portmasterd's socket" test -S /run/pmbench.sock
		ready "portmasterd" registered ;;
	*) echo "# unknown configuration $1"; teardown; return 1 ;;
	esac
}

stop_config() {
	teardown
	rm -f /run/pmbench.sock "$PMD_CONF"/history.db*
}

# Outside start_config: no firewall at all, and the seed's NFQUEUE path.
start_unloaded() {	# none | nfqueue
	rmmod portmaster 2>/dev/null
	setup "$1"
	if [ "$1" = nfqueue ]; then
		conntrack_on
		ip netns exec $C iptables-restore --noflush bench/seed-rules.v4
		ip netns exec $C "$BIN/trivial_verdict" >/dev/null 2>&1 &
		ready "trivial_verdict" queues_bound
	fi
}

measure_unloaded() {	# none | nfqueue
	start_unloaded "$1"
	measure "$1"
	teardown
}

measure_loaded() {	# CONFIG  r
	lsmod | grep -q '^portmaster ' || insmod "$KO" max_pending=4096 || exit 1
	start_config "$1" || exit 1
	measure "$1"
	[ "$1" = ct ] ||
		ip netns exec $C "$BIN/pm-listener" stats | sed "s/^/# round $2 $1 stats: /"
	[ -S /run/pmbench.sock ] && ip netns exec $C "$BIN/pmctl" -s /run/pmbench.sock -t status |
		awk -v c="$1" -v r="$2" -F'\t' '$1 ~ /^(packets|remembered|attrib_avg_ns|overruns|loop_max_us)$/ {
			printf "# round %s %s daemon: %s=%s\n", r, c, $1, $2 }'
	stop_config
}

# Each round starts one configuration later, so that no configuration is
# always measured right after the same other one.
# PM_BENCH_CONFIGS: a subset, for a quicker look at a few.
read -r -a CONFIGS <<<"${PM_BENCH_CONFIGS:-none ct module remember pmd0 pmd pmdhist nfqueue}"
for cfg in "${CONFIGS[@]}"; do
	case " none ct module remember pmd0 pmd pmdhist nfqueue " in
	*" $cfg "*) ;;
	*) echo "# unknown configuration $cfg in PM_BENCH_CONFIGS"; exit 2 ;;
	esac
done
for r in $(seq 1 "$ROUNDS"); do
	for k in "${!CONFIGS[@]}"; do
		cfg=${CONFIGS[$(((k + r - 1) % ${#CONFIGS[@]}))]}
		case $cfg in
		none | nfqueue) measure_unloaded $cfg ;;
		*) measure_loaded $cfg "$r" ;;
		esac
	done
done
rmmod portmaster 2>/dev/null

# Where the time goes: the whole guest sampled while one configuration
# runs one workload, for each CONFIG:WORKLOAD in PM_BENCH_PROFILE
# (default: every TCP connection asked of portmasterd, and UDP flows
# decided by a remembered verdict; 0 for none).  Printed as '#' lines
# (the ratios ignore them).
profile=${PM_BENCH_PROFILE:-pmd0:tcp remember:udp}
[ "$profile" = 1 ] && profile="pmd0:tcp remember:udp"
[ "$profile" = 0 ] && profile=
if [ -n "$profile" ] && ! perf version >/dev/null 2>&1; then
	echo "# profile: skipped (no perf for $(uname -r))"
	profile=
fi
for p in $profile; do
	cfg=${p%%:*} work=${p#*:}
	case $work in
	tcp) cmd=("$BIN/conn_bench" client 10.9.0.2 5001 "$SECS" "$INFLIGHT") prog=conn_bench ;;
	udp) cmd=("$BIN/udp_bench" client 10.9.0.2 6000 64 "$SECS" "$INFLIGHT") prog=udp_bench ;;
	*) echo "# profile: unknown workload $work"; continue ;;
	esac
	case $cfg in
	none | nfqueue) start_unloaded "$cfg" ;;
	*) insmod "$KO" max_pending=4096 || exit 1
		start_config "$cfg" || { rmmod portmaster; continue; } ;;
	esac
	# PM_BENCH_CALLERS="SYM ...": also who calls these (call graphs)
	perf record -q -a ${PM_BENCH_CALLERS:+-g} -e cpu-clock -o /tmp/pm.perf -- \
		ip netns exec $C "${cmd[@]}" >/dev/null 2>&1
	for sym in ${PM_BENCH_CALLERS:-}; do
		perf report -i /tmp/pm.perf --stdio --no-children -S "$sym" -G \
			--percent-limit 0.2 2>/dev/null | grep -v '^#' | grep . | head -n 60 |
			sed "s/^/# profile $p callers of $sym: /"
	done
	echo "# profile: $cfg, $work, whole guest"
	perf report -i /tmp/pm.perf --stdio --no-children --sort comm,dso \
		--percent-limit 2 2>/dev/null | grep -v '^#' | grep . | sed "s/^/# profile $p by program: /"
	# The module's own functions, summed over every program (its hooks
	# run in the sender's context and in softirqs), then each program's
	# heaviest functions.
	perf report -i /tmp/pm.perf --stdio --no-children --sort sym 2>/dev/null |
		awk -v p="$p" '$NF ~ /^pm_/ { s += $1; if ($1 + 0 >= 0.1) f = f " " $NF "=" $1 }
			END { printf "# profile %s: the module'"'"'s own code %.1f%%:%s\n", p, s, f }'
	perf report -i /tmp/pm.perf --stdio --no-children --sort sym --percent-limit 0.4 2>/dev/null |
		grep -v '^#' | grep . | head -n 40 | sed "s/^/# profile $p, whole guest: /"
	for c in portmasterd pm-listener trivial_verdict $prog; do
		perf report -i /tmp/pm.perf --stdio --no-children --comms $c --sort dso,sym \
			--percent-limit 0.5 2>/dev/null | grep -v '^#' | grep . | head -n 30 |
			sed "s/^/# profile $p of $c: /"
	done
	stop_config
	rmmod portmaster 2>/dev/null || true	# not loaded for none, nfqueue
done

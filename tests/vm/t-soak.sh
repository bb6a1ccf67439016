# Soak: the module under churn, over and over, while traffic flows:
# loading and unloading it under iperf3 and a connection storm, killing
# the daemon under the storm, and a structure-aware fuzzer's netlink
# messages as root and as nobody.  In a debug kernel the harness then
# asks kmemleak (vm-suite.sh reports it) and watches for KASAN and
# lockdep.  `make soak` runs it at full size (PM_SOAK=full); make check a
# short version.
. tests/vm/lib.sh
PMD=$PWD/build/bin/portmasterd
PM_NLFUZZ=$PWD/build/bin/pm-nlfuzz
trap 'touch "$T/stop"; kill -KILL ${PMD_PID:-} 2>/dev/null; cleanup' EXIT

# PM_SOAK: full, or CYCLES,KILLS,MESSAGES (a soak of another size)
case ${PM_SOAK:-} in
full) cycles=500 kills=100 messages=1000000 ;;
*,*,*) IFS=, read -r cycles kills messages <<<"$PM_SOAK" ;;
*) cycles=8 kills=2 messages=6000 ;;
esac
echo "# soak: $cycles load cycles, $kills daemon kills, $messages netlink messages"

net_setup
srv_tcp 8901
in_srv iperf3 -s -p 5201 >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port srv 8901 t
wait_port srv 5201 t

# The load: bulk traffic and a storm of short connections.
in_cli iperf3 -c 10.0.0.2 -p 5201 -t 86400 >"$T/iperf.log" 2>&1 &
SERVERS="$SERVERS $!"
for s in 1 2; do
	in_cli sh -c "while [ ! -e '$T/stop' ]; do
		socat -t 30 -T 5 - TCP:10.0.0.2:8901 </dev/null >/dev/null 2>&1
	done" &
	SERVERS="$SERVERS $!"
done
storm_alive() { [ -n "$(in_cli ss -Htn state established '( dport = :5201 )')" ]; }
wait_until 60 storm_alive || tap_fail "the bulk transfer runs" "$(cat "$T/iperf.log")"

# 1. insmod and rmmod, again and again, with a listener that answers or
# one that leaves flows waiting, while packets are held and decided.
ok=0
for i in $(seq 1 "$cycles"); do
	pm_load timeout_ms=$((200 + i % 7 * 100)) || break
	case $((i % 3)) in
	0) args="--answer 1710 --quiet" ;;
	1) args="--answer 1700 --quiet --remember-ms 0" ;;
	*) args="--quiet" ;;	# never answers: flows wait until unload
	esac
	# shellcheck disable=SC2086
	ip netns exec cli "$PM_LISTENER" listen $args --no-unregister >/dev/null 2>&1 &
	l=$!
	sleep 0.$((i % 5))
	pm_unload || break
	kill -KILL $l 2>/dev/null
	wait $l 2>/dev/null
	ok=$((ok + 1))
done
tap_is "$cycles insmod/rmmod cycles under iperf3 and a connection storm" "$ok" "$cycles"
storm_alive && tap_pass "the bulk transfer survived every unload" ||
	tap_fail "the bulk transfer survived every unload" "$(tail -n 5 "$T/iperf.log")"
tap_is "after them, connections work" "$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8901 </dev/null 2>&1)" hello

# 2. The daemon killed with SIGKILL under the storm, again and again.
pm_load || tap_fail "module loads for the daemon"
mkdir -p "$T/conf"
cp config/rules.conf "$T/conf/"
sed -e 's/^mode = .*/mode = kmod/' config/portmasterd.conf >"$T/conf/portmasterd.conf"
# Beside the storm, a flood of new UDP flows (a fresh socket for each
# datagram): a daemon starting then gets events before the module's ACK
# of its registration, and must take them as events (it once failed to
# start on them, "sequence mismatch", and never registered).
in_cli python3 -c '
import os, socket, sys
while not os.path.exists(sys.argv[1]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("10.0.0.2", 8999))
    s.close()
' "$T/stop" >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
ok=0
for i in $(seq 1 "$kills"); do
	rm -f "$T/ctl.sock"
	ip netns exec cli "$PMD" --mode kmod --foreground --config "$T/conf" \
		--socket "$T/ctl.sock" >>"$T/pmd.log" 2>&1 &
	PMD_PID=$!
	# Killed only once registered with the module: a death before that
	# is no listener's death.
	# (each ask bounded: a module that stopped answering must fail the
	# test, not hang it)
	if ! wait_until 120 sh -c "[ \"\$(timeout -k 5 20 ip netns exec cli '$PM_LISTENER' stats listener_state)\" = 1 ]"; then
		echo "# kill $i: the daemon never registered; its log:"
		tail -n 20 "$T/pmd.log" | sed 's/^/#   /'
		stat_of listener_state | sed 's/^/#   listener_state: /'
		stuck_report
		break
	fi
	sleep 0.$((i % 5))
	kill -KILL $PMD_PID
	if ! wait_until 60 exited $PMD_PID; then
		echo "# kill $i: the daemon outlived SIGKILL by 60 s"
		stuck_report
		break
	fi
	wait $PMD_PID 2>/dev/null
	ok=$((ok + 1))
done
PMD_PID=
tap_is "$kills daemon SIGKILLs under the storm" "$ok" "$kills"
tap_is "each death was seen by the module" "$(stat_of listener_lost)" "$kills"

# 3. A structure-aware netlink fuzzer, as root and as nobody, while a
# listener decides the storm's flows.
listener_start --answer 1710 --quiet || tap_fail "listener registers for the fuzzing"
half=$((messages / 2))
out=$(in_cli "$PM_NLFUZZ" $half 1 2>&1)
tap_ok "$half fuzzed messages as root were sent ($out)" test $? = 0
echo "# root: $out"
out=$(in_cli "$PM_NLFUZZ" $half 2 --as-nobody 2>&1)
tap_ok "$half fuzzed messages as nobody were sent" test $? = 0
echo "# nobody: $out"
echo "$out" | grep -q "Operation not permitted" && tap_pass "nobody was refused (EPERM)" ||
	tap_fail "nobody was refused (EPERM)" "$out"
listener_stop KILL
# (the fuzzer's SET_CONFIG may have left any setting: back to defaults)
in_cli "$PM_LISTENER" config policy=open timeout=30000 pending=1024 held=32 >/dev/null
listener_start --answer 1710 || tap_fail "a listener registers after the fuzzing"
tap_is "after the fuzzing, connections are decided" \
	"$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8901,sourceport=48901 </dev/null 2>&1)" hello

touch "$T/stop"
listener_stop
tap_ok "module unloads" pm_unload
tap_done

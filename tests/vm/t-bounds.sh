# Bounds and failures, each with its counter: the verdict timeout, the
# pending table (and its shares by direction and uid) and per-flow queue
# limits, which drop what overflows whatever the fail policy; the fail
# policy (open and closed) for the listener's own failures: no listener,
# a clean goodbye, a listener killed with SIGKILL, a listener that hangs,
# and a second listener refused while the first lives.  Every time limit
# compares with a timeout the test set: a slow machine agrees.
. tests/vm/lib.sh
trap cleanup EXIT

pm_load || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
srv_tcp 8201
for p in 6202 6203 6204 6205; do
	in_srv socat -u UDP-RECV:$p OPEN:"$T/udp$p",creat,append >/dev/null 2>&1 &
	SERVERS="$SERVERS $!"
done
wait_port srv 8201 t
wait_port srv 6204 u
lines() { cat "$1" 2>/dev/null | wc -l; }
cfg() { in_cli "$PM_LISTENER" config "$@" >/dev/null; }

# No listener yet: the module stays out of the way.
out=$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8201 </dev/null 2>&1)
tap_is "no listener: traffic passes" "$out" hello
tap_is "no listener: nothing intercepted" "$(stat_of intercepted)" 0
tap_is "no listener: not even conntrack is switched on" \
	"$(in_cli conntrack -L 2>/dev/null | grep -c dport=8201)" 0
tap_is "no listener: state none" "$(stat_of listener_state)" 0

# A listener that never answers.
listener_start || tap_fail "listener registers"
tap_is "a second listener gets EBUSY while the first lives" \
	"$(in_cli "$PM_LISTENER" register >/dev/null 2>&1; echo $?)" 16

no_pending() { wait_until 60 sh -c "[ \$(ip netns exec cli '$PM_LISTENER' stats pending) = 0 ]"; }

# Verdict timeout, fail open: the packet goes on, unmarked, after the
# timeout.  (The flow stays undecided: its next packet would wait again.)
cfg policy=open timeout=700
t0=$(now_ms)
in_cli sh -c 'echo late | socat -u - UDP:10.0.0.2:6202,sourceport=40201'
wait_until 60 sh -c "[ \$(cat '$T/udp6202' 2>/dev/null | wc -l) -ge 1 ]"
dt=$(($(now_ms) - t0))
tap_is "timeout, open: the datagram arrives" "$(cat "$T/udp6202")" late
[ $dt -ge 700 ] && tap_pass "timeout, open: not before the timeout ($dt ms)" ||
	tap_fail "timeout, open: not before the timeout" "$dt ms"
tap_is "timeout counted" "$(stat_of timeouts)" 1
m=$(in_cli conntrack -L -p udp --sport 40201 2>/dev/null | sed -n 's/.* mark=\([0-9]*\).*/\1/p')
tap_is "timeout, open: no mark kept" "$m" 0
no_pending

# Verdict timeout, fail closed: the datagram is dropped.
cfg policy=closed timeout=500
drops=$(stat_of policy_drop)
in_cli sh -c 'echo lost | socat -u - UDP:10.0.0.2:6202,sourceport=40202'
sleep 1.5
tap_is "timeout, closed: the datagram never arrives" "$(lines "$T/udp6202")" 1
tap_is "timeout, closed: counted as a policy drop" "$(stat_of policy_drop)" $((drops + 1))
tap_is "timeouts counted" "$(stat_of timeouts)" 2
no_pending

# decide_all PATTERN MARK: give every pending flow matching PATTERN a verdict
decide_all() {
	local id
	for id in $(in_cli "$PM_LISTENER" flows | grep -E "$1" | sed -n 's/^flow id=\([0-9]*\) .*/\1/p'); do
		in_cli "$PM_LISTENER" verdict "$id" "$2"
	done
}

# The pending table is bounded, and shared: inbound and outbound flows
# each may take half of max_pending, one uid half of its direction's.
# Whatever finds no room is dropped, fail open or not: a burst never
# slips past a decision.  (A long timeout, verdicts by hand: no timing
# decides the outcome.)
cfg policy=open timeout=600000 pending=4
for port in 41001 41002 41003; do
	in_cli sh -c "echo $port | socat -u - UDP:10.0.0.2:6203,sourceport=$port"
done
tap_is "a uid's share: one of its three flows waits" "$(in_cli "$PM_LISTENER" flows | grep -c dport=6203)" 1
tap_is "a uid's share: the others are counted" "$(stat_of quota_full)" 2
in_cli_user sh -c "echo 41004 | socat -u - UDP:10.0.0.2:6203,sourceport=41004"
tap_is "another uid's flow still waits" "$(in_cli "$PM_LISTENER" flows | grep -c dport=6203)" 2
ip netns exec cli setpriv --reuid=$((TEST_UID + 1)) --regid=$TEST_GID --clear-groups \
	sh -c "echo 41005 | socat -u - UDP:10.0.0.2:6203,sourceport=41005"
tap_is "the outbound share is taken: a third uid's flow is refused" "$(stat_of quota_full)" 3
decide_all dport=6203 1700
wait_until 60 sh -c "[ \$(cat '$T/udp6203' | wc -l) -ge 2 ]"
sleep 1	# (long enough for a datagram let through to show)
tap_is "shares: only the two that waited arrive, at their verdict" "$(sort "$T/udp6203" | tr '\n' ' ')" "41001 41004 "
no_pending

# A full table: one outbound and one inbound flow fill max_pending=2.
cfg pending=2
in_cli socat -u UDP-RECV:6300 OPEN:"$T/in6300",creat,append >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port cli 6300 u
in_cli sh -c "echo out | socat -u - UDP:10.0.0.2:6205,sourceport=41006"
in_srv sh -c "echo in | socat -u - UDP:10.0.0.1:6300,sourceport=41007"
wait_until 60 sh -c "[ \$(ip netns exec cli '$PM_LISTENER' stats pending) = 2 ]"
tap_is "max_pending: an outbound and an inbound flow wait" "$(stat_of pending)" 2
in_cli_user sh -c "echo full | socat -u - UDP:10.0.0.2:6205,sourceport=41008"
tap_is "max_pending: a third flow is refused" "$(stat_of table_full)" 1
decide_all 'dport=(6205|6300)' 1700
wait_until 60 sh -c "[ \$(cat '$T/udp6205' '$T/in6300' 2>/dev/null | wc -l) -ge 2 ]"
sleep 1
tap_is "max_pending, open: the refused one is dropped, the two arrive" \
	"$(cat "$T/udp6205" "$T/in6300" 2>/dev/null | tr '\n' ' ')" "out in "
no_pending

# A flow's queue is bounded: beyond max_held, dropped, fail open or not;
# the flow stays waiting.
cfg policy=open timeout=600000 pending=64 held=2
for i in 1 2 3 4 5; do
	in_cli sh -c "echo $i | socat -u - UDP:10.0.0.2:6204,sourceport=42000"
done
tap_is "max_held: the flow still waits, two packets held" "$(in_cli "$PM_LISTENER" flows | sed -n 's/.*dport=6204.* held=\([0-9]*\).*/\1/p')" 2
tap_is "max_held: three are refused" "$(stat_of queue_full)" 3
decide_all dport=6204 1700
wait_until 60 sh -c "[ \$(cat '$T/udp6204' | wc -l) -ge 2 ]"
sleep 1
tap_is "max_held, open: only the two held ones pass, at their verdict, in order" "$(tr '\n' ' ' <"$T/udp6204")" "1 2 "
no_pending
cfg policy=open timeout=60000 held=32

# A clean goodbye: pending flows pass at once (long before the timeout),
# new flows pass untouched.
in_cli socat -t 30 -T 50 - TCP:10.0.0.2:8201,sourceport=40202 </dev/null >"$T/goodbye.out" 2>&1 &
client=$!
wait_until 60 sh -c "in_cli() { ip netns exec cli \"\$@\"; }; ip netns exec cli '$PM_LISTENER' flows | grep -q 40202"
t0=$(now_ms)
listener_stop TERM
wait $client
dt=$(($(now_ms) - t0))
tap_is "clean goodbye: the pending connection completes" "$(cat "$T/goodbye.out")" hello
[ $dt -lt 30000 ] && tap_pass "clean goodbye: at once, not by the timeout ($dt ms)" ||
	tap_fail "clean goodbye: at once, not by the timeout" "$dt ms"
tap_is "clean goodbye: state none" "$(stat_of listener_state)" 0
n=$(stat_of intercepted)
out=$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8201 </dev/null 2>&1)
tap_is "clean goodbye: new flows pass" "$out" hello
tap_is "clean goodbye: and are not intercepted" "$(stat_of intercepted)" "$n"

# A listener that dies registered (SIGKILL), fail closed.
listener_start || tap_fail "a listener registers again"
cfg policy=closed timeout=20000
in_cli socat - TCP:10.0.0.2:8201,sourceport=40203,connect-timeout=4 </dev/null >"$T/killed.out" 2>&1 &
client=$!
wait_until 60 sh -c "ip netns exec cli '$PM_LISTENER' flows | grep -q 40203"
listener_stop KILL
tap_is "SIGKILL: the listener is counted lost" "$(stat_of listener_lost)" 1
tap_is "SIGKILL: state lost" "$(stat_of listener_state)" 2
tap_is "SIGKILL: nothing is left pending" "$(stat_of pending)" 0
wait $client
grep -q "timed out" "$T/killed.out" && tap_pass "SIGKILL, closed: the pending connection was dropped" ||
	tap_fail "SIGKILL, closed: the pending connection was dropped" "$(cat "$T/killed.out")"
out=$(in_cli socat - TCP:10.0.0.2:8201,connect-timeout=2 </dev/null 2>&1)
[ -z "$(echo "$out" | grep hello)" ] && tap_pass "SIGKILL, closed: new flows are dropped" ||
	tap_fail "SIGKILL, closed: new flows are dropped" "$out"
cfg policy=open
out=$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8201 </dev/null 2>&1)
tap_is "SIGKILL, open: new flows pass" "$out" hello

# A listener that dies registered, fail open: its pending flow goes on at once.
listener_start || tap_fail "a listener registers after one died"
tap_is "registered again: state active" "$(stat_of listener_state)" 1
cfg timeout=60000
in_cli socat -t 30 -T 50 - TCP:10.0.0.2:8201,sourceport=40204 </dev/null >"$T/killed2.out" 2>&1 &
client=$!
wait_until 60 sh -c "ip netns exec cli '$PM_LISTENER' flows | grep -q 40204"
t0=$(now_ms)
listener_stop KILL
wait $client
dt=$(($(now_ms) - t0))
tap_is "SIGKILL, open: the pending connection completes" "$(cat "$T/killed2.out")" hello
[ $dt -lt 30000 ] && tap_pass "SIGKILL, open: at once, not by the timeout ($dt ms)" ||
	tap_fail "SIGKILL, open: at once, not by the timeout" "$dt ms"

listener_start --answer 1710 || tap_fail "an answering listener registers"
out=$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8201,sourceport=40205 </dev/null 2>&1)
tap_is "a new listener decides again" "$out" hello
m=$(in_cli conntrack -L -p tcp --sport 40205 2>/dev/null | sed -n 's/.* mark=\([0-9]*\).*/\1/p')
tap_is "a new listener decides again: mark 1710" "$m" 1710

# A listener that hangs registered (SIGSTOP: no verdicts, no keep-alive).
# Once a flow has waited out the timeout with nothing heard from it, the
# fail policy decides at once, where otherwise every new flow, and fail
# open every later packet of it, would wait the whole timeout.
cfg policy=open timeout=10000
n=$(stat_of timeouts)
kill -STOP "$LISTENER"
t0=$(now_ms)
out=$(in_cli socat -t 30 -T 60 - TCP:10.0.0.2:8201,sourceport=40206 </dev/null 2>&1)
dt=$(($(now_ms) - t0))
tap_is "hung listener: the connection completes by the fail policy" "$out" hello
[ $dt -ge 10000 ] && tap_pass "hung listener: after one timeout ($dt ms)" ||
	tap_fail "hung listener: after one timeout" "$dt ms"
tap_is "hung listener: one timeout counted" "$(stat_of timeouts)" $((n + 1))
tap_is "hung listener: state silent" "$(stat_of listener_state)" 3
tap_is "hung listener: counted as silent" "$(stat_of listener_silent)" 1
i=$(stat_of intercepted)
t0=$(now_ms)
out=$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8201,sourceport=40207 </dev/null 2>&1)
dt=$(($(now_ms) - t0))
tap_is "hung listener: a new connection passes" "$out" hello
[ $dt -lt 10000 ] && tap_pass "hung listener: at once, not after a timeout ($dt ms)" ||
	tap_fail "hung listener: at once, not after a timeout" "$dt ms"
tap_is "hung listener: nothing more is held for it" "$(stat_of intercepted)" "$i"
kill -CONT "$LISTENER"
wait_until 60 sh -c "[ \$(ip netns exec cli '$PM_LISTENER' stats listener_state) = 1 ]" &&
	tap_pass "heard again: state active" ||
	tap_fail "heard again: state active" "state $(stat_of listener_state)"
out=$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8201,sourceport=40208 </dev/null 2>&1)
tap_is "heard again: it decides again" "$out" hello
m=$(in_cli conntrack -L -p tcp --sport 40208 2>/dev/null | sed -n 's/.* mark=\([0-9]*\).*/\1/p')
tap_is "heard again: mark 1710" "$m" 1710
listener_stop

# A listener that never sent a keep-alive is never taken as hung: its
# silence says nothing, and its flows meet the timeout as before.
listener_start --no-keepalive || tap_fail "a listener without keep-alives registers"
cfg policy=open timeout=1000
n=$(stat_of timeouts)
s=$(stat_of listener_silent)
in_cli sh -c 'echo quiet | socat -u - UDP:10.0.0.2:6202,sourceport=40209'
wait_until 60 sh -c "[ \$(ip netns exec cli '$PM_LISTENER' stats timeouts) = $((n + 1)) ]"
tap_is "without keep-alives: the flow meets the timeout" "$(stat_of timeouts)" $((n + 1))
tap_is "without keep-alives: not taken as hung (state, times silent)" \
	"$(stat_of listener_state) $(stat_of listener_silent)" "1 $s"
listener_stop
tap_ok "module unloads" pm_unload
tap_done

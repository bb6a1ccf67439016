# Read as an attacker: nothing slips past a decision.  A burst under a
# pending verdict lets nothing out; an inbound flood of SYNs and datagrams
# to open and closed ports cannot crowd out a local flow started
# meanwhile, which is still asked; a held datagram whose socket closes,
# or whose route goes away, is carried out safely (the debug kernels'
# KASAN watches); a verdict from another privileged socket is refused;
# and where the kernel can make allocations fail on purpose, a failed
# allocation drops the packet, fail open or not.
. tests/vm/lib.sh
trap cleanup EXIT

# Verdicts by hand: the timeout stays out of the way, the policy is open
# so that anything let through by a failure would show.
pm_load timeout_ms=600000 fail_policy=open || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
in_srv socat -u UDP-RECV:6601 OPEN:"$T/burst",creat,append >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
srv_tcp 8801
wait_port srv 6601 u
wait_port srv 8801 t
lines() { cat "$1" 2>/dev/null | wc -l; }
flows() { in_cli "$PM_LISTENER" flows; }
decide_all() {	# PATTERN MARK: every pending flow matching PATTERN
	local id
	for id in $(flows | grep -E "$1" | sed -n 's/^flow id=\([0-9]*\) .*/\1/p'); do
		in_cli "$PM_LISTENER" verdict "$id" "$2" || return 1
	done
}

listener_start || tap_fail "listener registers"

# 1. A burst of 100 datagrams from one socket while its flow waits: the
# first 32 (max_held) wait, the rest are dropped.  Before the fix, 68
# reached the peer before any verdict.
in_cli python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.1", 46601))
for i in range(100):
    try:
        s.sendto(b"%d\n" % i, ("10.0.0.2", 6601))
    except OSError:
        pass'
wait_until 60 sh -c "ip netns exec cli '$PM_LISTENER' flows | grep -q 'sport=46601'"
sleep 1	# (long enough for a datagram let through to show)
tap_is "burst: nothing reaches the peer before the verdict" "$(lines "$T/burst")" 0
tap_is "burst: one flow waits, max_held packets held" \
	"$(flows | sed -n 's/.*sport=46601.* held=\([0-9]*\).*/\1/p')" 32
tap_is "burst: the other 68 are dropped, fail open or not" "$(stat_of queue_full)" 68
tap_ok "burst: the verdict is given" decide_all 'sport=46601' 1710
wait_until 60 sh -c "[ \$(cat '$T/burst' | wc -l) -ge 32 ]"
sleep 1
tap_is "burst: after it the held 32 arrive, in order" "$(tr '\n' ' ' <"$T/burst")" \
	"$(seq 0 31 | tr '\n' ' ')"

# 2. An inbound flood from the peer namespace: 5,000 SYNs and datagrams,
# each a new flow, to two open ports of ours and two closed ones.
in_cli socat TCP-LISTEN:9001,fork,reuseaddr SYSTEM:'echo hi' >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
in_cli socat -u UDP-RECV:9002 OPEN:/dev/null >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port cli 9001 t
wait_port cli 9002 u
nl0=$(stat_of not_local)
in_srv python3 tests/tools/pm-flood.py 10.0.0.2 10.0.0.1 5000 9001,9002,9003,9004 \
	>"$T/flood.out" 2>&1 &
flooder=$!
# Wait until the flood has taken the inbound share it may take.
wait_until 120 sh -c "[ \$(ip netns exec cli '$PM_LISTENER' stats quota_full) -gt 0 ]" ||
	tap_fail "flood: the inbound share fills up" "$(stat_of)"
kill -0 $flooder 2>/dev/null && flooding=yes || flooding=no
out_quota=$(stat_of quota_full)
in_cli socat -t 30 -T 60 - TCP:10.0.0.2:8801,sourceport=46602 </dev/null >"$T/flooded.out" 2>&1 &
client=$!
wait_until 60 sh -c "grep -q 'sport=46602' '$T/events'" &&
	tap_pass "flood: a local flow started meanwhile is announced (flood still going: $flooding)" ||
	tap_fail "flood: a local flow started meanwhile is announced" "$(tail -n 3 "$T/events")"
tap_is "flood: it waits for its verdict, neither passed nor refused" \
	"$(flows | grep -c 'sport=46602')" 1
tap_ok "flood: the verdict is given" decide_all 'sport=46602' 1710
wait $client
tap_is "flood: the local connection completes" "$(cat "$T/flooded.out")" hello
wait $flooder
tap_is "flood: the flooder sent all 5000" "$(cat "$T/flood.out")" 5000
n=$(( $(stat_of not_local) - nl0 ))
[ $n -ge 2000 ] && tap_pass "flood: closed ports are left to the stack, not held ($n packets)" ||
	tap_fail "flood: closed ports are left to the stack, not held" "not_local=$n"
n=$(flows | grep -c 'dir=in')
in_max=512	# half of max_pending 1024
[ "$n" -le $in_max ] && [ "$n" -gt 0 ] &&
	tap_pass "flood: inbound flows waiting stay within their share ($n of $in_max)" ||
	tap_fail "flood: inbound flows waiting stay within their share" "$n"
[ "$(stat_of quota_full)" -ge "$out_quota" ] && tap_pass "flood: overflow counted as quota_full" ||
	tap_fail "flood: overflow counted as quota_full"
listener_stop
tap_is "flood: the listener's goodbye resolves every waiting flow" "$(stat_of pending)" 0

# 3. A held datagram for a connected UDP socket that closes while it is
# held: early demux prefetched the socket (on 6.12 without a reference);
# the module must take one before holding the packet.
listener_start || tap_fail "listener registers again"
in_cli python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.1", 46603))
s.connect(("10.0.0.2", 6603))
open(sys.argv[1], "w").close()
while True:
    time.sleep(0.1)
    try:
        open(sys.argv[2])
        break
    except OSError:
        pass
s.close()' "$T/connected" "$T/close-now" &
holder=$!
wait_until 60 test -e "$T/connected"
for i in 1 2 3; do
	in_srv sh -c "echo $i | socat -u - UDP:10.0.0.1:46603,sourceport=6603"
done
wait_until 60 sh -c "ip netns exec cli '$PM_LISTENER' flows | grep -q 'dport=46603.*held=3'"
tap_is "closing socket: its inbound datagrams are held" \
	"$(flows | sed -n 's/.*dport=46603.* held=\([0-9]*\).*/\1/p')" 3
touch "$T/close-now"
wait $holder
tap_is "closing socket: the socket is gone" \
	"$(in_cli ss -Hun "sport = :46603" | wc -l)" 0
tap_ok "closing socket: the verdict is carried out" decide_all 'dport=46603' 1710
tap_is "closing socket: nothing is left pending" "$(stat_of pending)" 0

# 4. A route that goes away while packets wait on it.
in_srv ip addr add 10.9.9.9/32 dev lo
in_cli ip route add 10.9.9.0/24 via 10.0.0.2
in_srv socat -u UDP-RECV:6604,bind=10.9.9.9 OPEN:"$T/rerouted",creat,append >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port srv 6604 u
for i in 1 2 3; do
	in_cli sh -c "echo $i | socat -u - UDP:10.9.9.9:6604,sourceport=46604"
done
wait_until 60 sh -c "ip netns exec cli '$PM_LISTENER' flows | grep -q 'sport=46604.*held=3'"
in_cli ip route del 10.9.9.0/24
in_cli ip route flush cache 2>/dev/null
tap_ok "vanished route: the verdict is carried out" decide_all 'sport=46604' 1710
tap_is "vanished route: nothing is left pending" "$(stat_of pending)" 0

# 5. Who may answer: only the listener's own socket.
in_cli sh -c "echo x | socat -u - UDP:10.0.0.2:6601,sourceport=46605"
wait_until 60 sh -c "ip netns exec cli '$PM_LISTENER' flows | grep -q 'sport=46605'"
id=$(flows | sed -n 's/^flow id=\([0-9]*\) .*sport=46605.*/\1/p')
tap_is "a verdict from another privileged socket is refused (EPERM)" \
	"$(in_cli "$PM_LISTENER" verdict --direct "$id" 1710 >/dev/null 2>&1; echo $?)" 1
tap_is "and the flow still waits for its listener" "$(flows | grep -c 'sport=46605')" 1
tap_ok "the listener's own verdict is taken" decide_all 'sport=46605' 1711

# 6. Allocations in the hook that fail: the packet is dropped, never let
# through (fail open here).  Needs failslab and the module's caches marked
# for it (the debug kernels: slub_debug=A,pm_flow,pm_packet).
fs=/sys/kernel/debug/failslab
if [ -w $fs/probability ] && [ "$(cat /sys/kernel/slab/pm_flow/failslab 2>/dev/null)" = 1 ]; then
	echo -1 >$fs/times
	echo 0 >$fs/interval
	echo 0 >$fs/space
	echo Y >$fs/cache-filter	# only caches marked for it: ours
	echo N >$fs/ignore-gfp-wait
	echo 0 >$fs/verbose
	: >"$T/nomem"
	in_srv socat -u UDP-RECV:6606 OPEN:"$T/nomem",creat,append >/dev/null 2>&1 &
	SERVERS="$SERVERS $!"
	wait_port srv 6606 u
	fail() { echo "$1" >$fs/probability; }
	# A new flow: the flow itself cannot be allocated.
	n=$(stat_of no_memory)
	fail 100
	in_cli sh -c "echo lost | socat -u - UDP:10.0.0.2:6606,sourceport=46606"
	fail 0
	tap_is "no memory for a new flow: counted" "$(stat_of no_memory)" $((n + 1))
	tap_is "no memory for a new flow: nothing waits for it" "$(flows | grep -c 'sport=46606')" 0
	# A later packet of a waiting flow: only its holder is allocated.
	in_cli sh -c "echo first | socat -u - UDP:10.0.0.2:6606,sourceport=46607"
	wait_until 60 sh -c "ip netns exec cli '$PM_LISTENER' flows | grep -q 'sport=46607'"
	fail 100
	in_cli sh -c "echo second | socat -u - UDP:10.0.0.2:6606,sourceport=46607"
	fail 0
	tap_is "no memory for a held packet: counted" "$(stat_of no_memory)" $((n + 2))
	tap_is "no memory for a held packet: its flow still waits, with the first" \
		"$(flows | sed -n 's/.*sport=46607.* held=\([0-9]*\).*/\1/p')" 1
	tap_ok "the verdict is given" decide_all 'sport=46607' 1710
	wait_until 60 sh -c "[ -s '$T/nomem' ]"
	sleep 1
	tap_is "no memory: nothing was let through, fail open or not" "$(cat "$T/nomem")" first
else
	tap_skip "no memory: a failed allocation drops the packet" \
		"this kernel cannot fail the module's allocations on purpose (failslab)"
fi

listener_stop
tap_ok "module unloads" pm_unload
tap_done

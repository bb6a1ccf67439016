# Held packets never pin a device, a namespace or the module: a device
# deleted, a namespace deleted, or the module unloaded while packets are
# held (and while an iperf3 stream and a storm of new connections run)
# each completes at once and cleanly.  The module's own exit check and
# the harness's kernel-log check catch any leaked flow, packet or splat.
. tests/vm/lib.sh
trap 'cleanup; ip netns del dd 2>/dev/null; ip netns del gone 2>/dev/null' EXIT

pm_load || { tap_fail "module loads"; tap_done; exit 1; }
net_setup

# pair NS DEV PEER ADDR: a veth from NS to srv, NS's end holding ADDR/24
pair() {
	ip netns add "$1"
	ip link add "$2" netns "$1" type veth peer name "$3" netns srv
	ip -n "$1" addr add "$4/24" dev "$2"
	ip -n srv addr add "${4%.*}.254/24" dev "$3"
	ip -n "$1" link set lo up
	ip -n "$1" link set "$2" up
	ip -n srv link set "$3" up
}
# silent NS: a listener in NS that never answers; its pid in $SILENT
silent() {
	ip netns exec "$1" "$PM_LISTENER" listen --out "$T/$1.events" >/dev/null 2>&1 &
	SILENT=$!
	wait_until 60 sh -c "[ \$(ip netns exec $1 '$PM_LISTENER' stats listener_state) = 1 ]"
}

# A device deleted while a packet it would leave by is held.
pair dd dd0 dd1 10.1.0.1
silent dd
ip netns exec dd sh -c 'echo held | socat -u - UDP:10.1.0.254:7000'
tap_is "a packet is held for dd0" "$(ip netns exec dd "$PM_LISTENER" stats held)" 1
t0=$(now_ms)
timeout 20 ip -n dd link del dd0
rc=$?
dt=$(($(now_ms) - t0))
[ $rc = 0 ] && [ $dt -lt 5000 ] && tap_pass "deleting the device completes at once ($dt ms)" ||
	tap_fail "deleting the device completes at once" "rc=$rc after $dt ms"
tap_is "its held packet is gone with it" "$(ip netns exec dd "$PM_LISTENER" stats held)" 0
kill -KILL $SILENT 2>/dev/null
ip netns del dd

# A namespace deleted while packets are held in it.
pair gone g0 g1 10.2.0.1
silent gone
ip netns exec gone sh -c 'echo held | socat -u - UDP:10.2.0.254:7000'
tap_is "a packet is held in the namespace" "$(ip netns exec gone "$PM_LISTENER" stats held)" 1
ip netns del gone
kill -KILL $SILENT 2>/dev/null
wait $SILENT 2>/dev/null
# The last reference is gone: the namespace dies, and its veth with it.
if wait_until 60 sh -c '! ip -n srv link show g1 >/dev/null 2>&1'; then
	tap_pass "the namespace is destroyed (its veth peer is gone)"
else
	tap_fail "the namespace is destroyed (its veth peer is gone)" "$(ip -n srv link)"
fi

# Unload under load: an iperf3 stream, a storm of new connections, and
# flows held in a namespace whose listener never answers.
srv_tcp 8301
in_srv iperf3 -s -p 5201 -D
in_srv socat -u UDP-RECV:7300 OPEN:"$T/udp7300",creat,append >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port srv 5201 t
wait_port srv 7300 u
listener_start --answer 1710 || tap_fail "listener registers"

pair slow s0 s1 10.3.0.1
silent slow
ip netns exec slow "$PM_LISTENER" config timeout=60000 >/dev/null
for p in 41001 41002 41003; do
	ip netns exec slow sh -c "echo $p | socat -u - UDP:10.3.0.254:7300,sourceport=$p"
done
tap_is "three flows are held when the module goes" "$(ip netns exec slow "$PM_LISTENER" stats pending)" 3

in_cli iperf3 -c 10.0.0.2 -p 5201 -t 6 >"$T/iperf.out" 2>&1 &
iperf=$!
(
	for i in $(seq 1 2000); do
		ip netns exec cli socat -t 30 -T 1 - TCP:10.0.0.2:8301 </dev/null >/dev/null 2>&1
	done
) &
storm=$!
wait_until 60 sh -c "[ \$(ip netns exec cli '$PM_LISTENER' stats intercepted) -ge 5 ]"
n=$(stat_of intercepted)
[ "$n" -ge 5 ] && tap_pass "the storm is being intercepted ($n flows)" || tap_fail "the storm is being intercepted" "$n"

t0=$(now_ms)
timeout 30 rmmod portmaster
rc=$?
dt=$(($(now_ms) - t0))
[ $rc = 0 ] && tap_pass "rmmod under load succeeds ($dt ms)" || tap_fail "rmmod under load succeeds" "rc=$rc after $dt ms"
tap_ok "the module is gone" sh -c '! pm_loaded() { [ -d /sys/module/portmaster ]; }; ! [ -d /sys/module/portmaster ]'
wait_until 60 sh -c "[ \$(cat '$T/udp7300' 2>/dev/null | wc -l) -ge 3 ]"
tap_is "the held packets went on by the fail policy (open)" "$(sort "$T/udp7300" | tr '\n' ' ')" "41001 41002 41003 "
wait $iperf
rc=$?
tap_is "the iperf3 stream runs to its end" "$rc" 0
kill $storm 2>/dev/null
wait $storm 2>/dev/null
out=$(in_cli socat -t 30 -T 3 - TCP:10.0.0.2:8301 </dev/null 2>&1)
tap_is "new connections work after unload" "$out" hello
kill -KILL $SILENT 2>/dev/null
ip netns del slow
tap_ok "the module loads again" pm_load
tap_ok "and unloads with nothing left" pm_unload
tap_done

# The packets of a pending flow are held, all of them, and continue in
# order after the verdict through the rest of the hook chain: a user's
# filter rule and NAT rule on OUTPUT still apply, and no hook before ours
# sees a packet twice.  The verdicts here are given by hand, when the
# test has seen what is held, so that no timing decides the outcome.
. tests/vm/lib.sh
trap cleanup EXIT

pm_load timeout_ms=600000 || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
srv_tcp 8101
in_srv socat -u UDP-RECV:6101 OPEN:"$T/udp6101",creat,append >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
in_srv socat -u UDP-RECV:6104 OPEN:"$T/udp6104",creat,append >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port srv 8101 t
wait_port srv 6104 u

flows() { in_cli "$PM_LISTENER" flows; }
# held_for PATTERN: packets held for the pending flow matching PATTERN
held_for() { flows | grep -E "$1" | sed -n 's/.* held=\([0-9]*\).*/\1/p'; }
# decide PATTERN MARK: give the pending flow matching PATTERN its verdict
decide() {
	local id
	id=$(flows | grep -E "$1" | sed -n 's/^flow id=\([0-9]*\) .*/\1/p')
	[ -n "$id" ] && in_cli "$PM_LISTENER" verdict "$id" "$2"
}
lines() { cat "$1" 2>/dev/null | wc -l; }

# A listener that leaves every decision to the test.
listener_start || tap_fail "listener registers"

# A SYN waits for its verdict.  (TCP does not retransmit a SYN whose
# clone is still held: skb_still_in_host_queue().)
in_cli socat -t 30 -T 30 - TCP:10.0.0.2:8101 </dev/null >"$T/tcp.out" 2>&1 &
client=$!
wait_until 60 sh -c "ip netns exec cli '$PM_LISTENER' flows | grep -q dport=8101"
tap_is "the pending flow is listed, its SYN held" "$(held_for dport=8101)" 1
sleep 1
kill -0 $client 2>/dev/null && tap_pass "the client waits for the verdict" ||
	tap_fail "the client waits for the verdict"
tap_ok "the verdict is given" decide dport=8101 1710
wait $client
tap_is "after the verdict the connection completes" "$(cat "$T/tcp.out")" hello
tap_is "one event for the whole flow" "$(events_count 'dport=8101')" 1

# Echo requests of one ping (one ICMP id: one flow) wait together.
ip netns exec cli ping -c 3 -i 0.3 -W 30 10.0.0.2 >"$T/ping.out" 2>&1 &
pinger=$!
wait_until 60 sh -c "[ \"\$(ip netns exec cli '$PM_LISTENER' flows | grep 'proto=1 ' | sed -n 's/.* held=\([0-9]*\).*/\1/p')\" = 3 ]"
tap_is "three echo requests of one ping are held together" "$(held_for 'proto=1 ')" 3
tap_ok "the verdict is given" decide 'proto=1 ' 1710
wait $pinger
grep -q "3 received" "$T/ping.out" && tap_pass "all three are answered after the verdict" ||
	tap_fail "all three are answered after the verdict" "$(cat "$T/ping.out")"
tap_is "one event for the ping" "$(events_count 'proto=1 ')" 1

# A burst of datagrams on one flow: all held, all delivered, in order.
for i in 1 2 3 4 5; do
	in_cli sh -c "echo $i | socat -u - UDP:10.0.0.2:6101,sourceport=41101"
done
tap_is "the burst is held while the flow is pending" "$(held_for dport=6101)" 5
tap_is "nothing arrived before the verdict" "$(lines "$T/udp6101")" 0
tap_ok "the verdict is given" decide dport=6101 1710
wait_until 60 sh -c "[ \$(cat '$T/udp6101' 2>/dev/null | wc -l) -ge 5 ]"
tap_is "after the verdict all five arrive, in order" "$(tr '\n' ' ' <"$T/udp6101")" "1 2 3 4 5 "
tap_is "one event for the burst" "$(events_count 'dport=6101')" 1

# Hooks before ours (raw -300, mangle -150) see each packet once; filter
# after ours (0) sees the re-injected packets, once.
for t in raw mangle filter; do
	in_cli iptables -t $t -A OUTPUT -p udp --dport 6104
done
for i in 1 2 3; do
	in_cli sh -c "echo $i | socat -u - UDP:10.0.0.2:6104,sourceport=41104"
done
tap_is "three packets held" "$(held_for dport=6104)" 3
tap_ok "the verdict is given" decide dport=6104 1710
wait_until 60 sh -c "[ \$(cat '$T/udp6104' 2>/dev/null | wc -l) -ge 3 ]"
for t in raw mangle filter; do
	n=$(in_cli iptables -t $t -L OUTPUT -v -x -n | awk '/dpt:6104/ {print $1}')
	tap_is "the $t table saw each of the 3 packets once" "$n" 3
done
listener_stop

# Later hooks stay in force: the user's own REJECT and DNAT on OUTPUT.
listener_start --answer 1710 || tap_fail "listener registers again"
accepted=$(stat_of verdict_1710)
in_cli iptables -A OUTPUT -p tcp --dport 8102 -j REJECT --reject-with tcp-reset
out=$(in_cli socat -t 30 -T 3 - TCP:10.0.0.2:8102 </dev/null 2>&1)
echo "$out" | grep -q "Connection refused" &&
	tap_pass "accepted by us, refused by the user's filter rule" ||
	tap_fail "accepted by us, refused by the user's filter rule" "$out"
tap_is "the verdict was accept" "$(stat_of verdict_1710)" $((accepted + 1))
in_cli iptables -t nat -A OUTPUT -p tcp --dport 8103 -j DNAT --to-destination 10.0.0.2:8101
out=$(in_cli socat -t 30 -T 3 - TCP:10.0.0.2:8103 </dev/null 2>&1)
tap_is "accepted by us, redirected by the user's NAT rule" "$out" hello
tap_is "the event names the address before NAT" "$(event_field dport 'dport=8103')" 8103

listener_stop
tap_ok "module unloads" pm_unload
tap_done

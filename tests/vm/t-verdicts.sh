# Every verdict mark, checked with the client's own result and with
# conntrack -L: the permanent ones are kept on the connection and keep
# its later packets in the kernel; the others act on the packets held now
# and leave the connection undecided; the reroutes mark the packet so a
# NAT rule redirects the flow.
. tests/vm/lib.sh
trap cleanup EXIT

pm_load || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
for p in 8001 8002 8003 8004 8005 9717; do srv_tcp $p; srv_tcp $p v6; done
in_srv socat -u UDP-RECV:6004 OPEN:"$T/udp6004",creat,append >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
in_srv socat -u UDP-RECV:6006 OPEN:"$T/udp6006",creat,append >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port srv 9717 t
wait_port srv 6006 u

listener_start --answer-port 8001=1710 --answer-port 8002=1711 \
	--answer-port 8003=1712 --answer-port 8004=1700 --answer-port 8005=1701 \
	--answer-port 6004=1700 --answer-port 6006=1702 --answer-port 53=1799 \
	--answer-port 8017=1717 --answer 1710 ||
	tap_fail "listener registers"

# The packet mark is left alone where no rule needs it; someone else's
# (a fwmark, say) survives our verdict.
in_cli iptables -t mangle -A OUTPUT -p tcp --dport 8001 -j MARK --set-mark 0x42
in_cli iptables -t mangle -A POSTROUTING -p tcp --dport 8001 -m mark --mark 0x42
in_cli iptables -t mangle -A POSTROUTING -p tcp --dport 8001 -m mark --mark 1710

pkts() {	# table chain rule-number: a rule's packet counter
	in_cli iptables -t "$1" -L "$2" -v -x -n | awk -v n="$3" 'NR == n + 2 {print $1}'
}

for fam in ipv4 ipv6; do
	if [ $fam = ipv4 ]; then dst=10.0.0.2 tcp=TCP; else dst=[fd00::2] tcp=TCP6; fi

	# 1710: accepted for good
	out=$(in_cli socat -t 30 -T 3 - "$tcp:$dst:8001" </dev/null 2>&1)
	tap_is "$fam 1710: the connection completes" "$out" hello
	tap_is "$fam 1710: conntrack mark 1710" "$(ct_mark tcp 8001 $fam)" 1710
	tap_is "$fam 1710: later packets raise no event" "$(events_count "family=$fam .*dport=8001")" 1

	# 1711: rejected, with the seed's ICMP type: the client hears it
	# (a dropped SYN would end in "timed out").  The error may reach the
	# socket only at the SYN's first retransmission: the module rejects
	# the SYN while connect() still holds the socket.
	t0=$(now_ms)
	out=$(in_cli socat -T 10 - "$tcp:$dst:8002,connect-timeout=60" </dev/null 2>&1)
	rc=$?
	dt=$(($(now_ms) - t0))
	want="No route to host"
	[ $fam = ipv6 ] && want="Permission denied"	# adm-prohibited is EACCES
	if [ $rc != 0 ] && echo "$out" | grep -q "$want"; then
		tap_pass "$fam 1711: the client is refused ($dt ms, $want)"
	else
		tap_fail "$fam 1711: the client is refused with '$want'" "rc=$rc after $dt ms: $out"
	fi
	tap_is "$fam 1711: conntrack mark 1711" "$(ct_mark tcp 8002 $fam)" 1711

	# 1712: dropped; the retransmitted SYNs die in the kernel
	t0=$(now_ms)
	out=$(in_cli socat - "$tcp:$dst:8003,connect-timeout=3" </dev/null 2>&1)
	rc=$?
	dt=$(($(now_ms) - t0))
	if [ $rc != 0 ] && [ $dt -ge 2500 ]; then
		tap_pass "$fam 1712: the client times out ($dt ms)"
	else
		tap_fail "$fam 1712: the client times out" "rc=$rc after $dt ms: $out"
	fi
	tap_is "$fam 1712: conntrack mark 1712" "$(ct_mark tcp 8003 $fam)" 1712
	tap_is "$fam 1712: retransmissions raise no event" "$(events_count "family=$fam .*dport=8003")" 1

	# 1700: accepted once; every packet is asked again
	out=$(in_cli socat -T 3 - "$tcp:$dst:8004" </dev/null 2>&1)
	tap_is "$fam 1700: the connection completes" "$out" hello
	n=$(events_count "family=$fam .*dport=8004")
	[ "$n" -ge 3 ] && tap_pass "$fam 1700: its packets keep asking ($n events)" ||
		tap_fail "$fam 1700: its packets keep asking" "$n events"
	tap_is "$fam 1700: conntrack mark stays 0" "$(ct_mark tcp 8004 $fam)" 0

	# 1701: rejected once (refused, not timed out); the next attempt asks again
	t0=$(now_ms)
	out=$(in_cli socat -T 10 - "$tcp:$dst:8005,connect-timeout=60" </dev/null 2>&1)
	rc=$?
	dt=$(($(now_ms) - t0))
	[ $rc != 0 ] && echo "$out" | grep -q "$want" &&
		tap_pass "$fam 1701: the client is refused ($dt ms)" ||
		tap_fail "$fam 1701: the client is refused with '$want'" "rc=$rc after $dt ms: $out"
	# (the first attempt may have asked twice: its SYN retransmitted
	# before the error reached the socket is a new question, as it must be)
	n=$(events_count "family=$fam .*dport=8005")
	in_cli socat -T 10 - "$tcp:$dst:8005" </dev/null >/dev/null 2>&1
	n2=$(events_count "family=$fam .*dport=8005")
	[ "$n" -ge 1 ] && [ "$n2" -gt "$n" ] &&
		tap_pass "$fam 1701: the next attempt raises a new event ($n, then $n2)" ||
		tap_fail "$fam 1701: the next attempt raises a new event" "$n, then $n2"
	m=$(ct_mark tcp 8005 $fam)
	tap_is "$fam 1701: no mark kept" "${m:-0}" 0
done

tap_is "the packet mark is not set for 1710" "$(pkts mangle POSTROUTING 2)" 0
n=$(pkts mangle POSTROUTING 1)
[ "${n:-0}" -gt 0 ] && tap_pass "another tool's packet mark survives our verdict ($n packets)" ||
	tap_fail "another tool's packet mark survives our verdict" "counter '$n'"

# UDP, 1700 and 1702: each datagram asks; the dropped one never arrives
in_cli sh -c 'echo one | socat -u - UDP:10.0.0.2:6004,sourceport=40004'
in_cli sh -c 'echo two | socat -u - UDP:10.0.0.2:6004,sourceport=40004'
wait_until 60 sh -c "[ \$(wc -l <'$T/udp6004') -ge 2 ]"
tap_is "UDP 1700: both datagrams arrive" "$(cat "$T/udp6004" | tr '\n' ' ')" "one two "
tap_is "UDP 1700: each datagram asked" "$(events_count 'dport=6004')" 2
in_cli sh -c 'echo one | socat -u - UDP:10.0.0.2:6006,sourceport=40006'
in_cli sh -c 'echo two | socat -u - UDP:10.0.0.2:6006,sourceport=40006'
sleep 0.5
tap_is "UDP 1702: nothing arrives" "$(cat "$T/udp6006" 2>/dev/null)" ""
tap_is "UDP 1702: the next datagram asks again" "$(events_count 'dport=6006')" 2
m=$(ct_mark udp 6006)
tap_is "UDP 1702: no mark kept" "${m:-0}" 0

# 1799: a stray DNS query, redirected by the seed's NAT rule to a local resolver
in_cli socat UDP-LISTEN:5353,bind=127.0.0.1,fork SYSTEM:'echo local-resolver' >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
in_cli socat UDP6-LISTEN:5353,bind=[::1],fork SYSTEM:'echo local-resolver6' >/dev/null 2>&1 &
SERVERS="$SERVERS $!"
wait_port cli 5353 u
in_cli iptables -t nat -A OUTPUT -p udp --dport 53 -m mark --mark 1799 -j DNAT --to-destination 127.0.0.1:5353
in_cli ip6tables -t nat -A OUTPUT -p udp --dport 53 -m mark --mark 1799 -j DNAT --to-destination [::1]:5353
# (the marks are read while the query's socket is still open)
query() {	# OUTFILE SOCAT-ADDRESS: a query, its socket kept open for 20 s
	in_cli sh -c "echo query | socat -t 30 -T 20 - $2" >"$1" 2>&1 &
	wait_until 60 sh -c "[ -s '$1' ]"
}
query "$T/q4" UDP:10.0.0.2:53
tap_is "1799: the query is answered by the local resolver" "$(cat "$T/q4")" local-resolver
tap_is "1799: conntrack mark 1799" "$(ct_mark udp 53)" 1799
query "$T/q6" UDP6:[fd00::2]:53
tap_is "1799 IPv6: answered by the local resolver" "$(cat "$T/q6")" local-resolver6
tap_is "1799 IPv6: conntrack mark 1799" "$(ct_mark udp 53 ipv6)" 1799

# 1717: rerouted to the tunnel entry
in_cli iptables -t nat -A OUTPUT -p tcp -m mark --mark 1717 -j DNAT --to-destination 10.0.0.2:9717
out=$(in_cli socat -t 30 -T 3 - TCP:10.0.0.2:8017 </dev/null 2>&1)
tap_is "1717: the connection reaches the tunnel entry" "$out" hello
tap_is "1717: conntrack mark 1717" "$(ct_mark tcp 8017)" 1717

# The same reroutes done by the module itself, with no NAT rule at all:
# the listener says where 1799 and 1717 go (PM_CONFIG_A_REROUTE_*).
in_cli iptables -t nat -F OUTPUT
in_cli ip6tables -t nat -F OUTPUT
in_cli "$PM_LISTENER" config dns4=127.0.0.1 dns6=::1 dnsport=5353 \
	tunnel4=10.0.0.2 tunnelport=9717 >"$T/config.out"
tap_is "in-kernel reroutes: the places read back" \
	"$(grep -E '^(dns|tunnel)' "$T/config.out" | tr '\n' ' ')" \
	"dns4=127.0.0.1 dns6=::1 dnsport=5353 tunnel4=10.0.0.2 tunnelport=9717 "
tap_is "in-kernel reroutes: no NAT rule is left" \
	"$(in_cli iptables -t nat -S OUTPUT | grep -c DNAT) $(in_cli ip6tables -t nat -S OUTPUT | grep -c DNAT)" "0 0"
out=$(in_cli sh -c 'echo query | socat -t 30 -T 3 - UDP:10.0.0.2:53,sourceport=40053' 2>&1)
tap_is "1799 in the kernel: the query is answered by the local resolver" "$out" local-resolver
out=$(in_cli sh -c 'echo query | socat -t 30 -T 3 - UDP6:[fd00::2]:53,sourceport=40054' 2>&1)
tap_is "1799 in the kernel, IPv6: answered by the local resolver" "$out" local-resolver6
out=$(in_cli socat -t 30 -T 3 - TCP:10.0.0.2:8017,sourceport=40017 </dev/null 2>&1)
tap_is "1717 in the kernel: the connection reaches the tunnel entry" "$out" hello
in_cli "$PM_LISTENER" config dns=off tunnel=off >"$T/config.out"
tap_is "in-kernel reroutes: turned off, nothing reads back" \
	"$(grep -cE '^(dns|tunnel)' "$T/config.out")" 0
out=$(in_cli sh -c 'echo query | socat -t 30 -T 3 - UDP:10.0.0.2:53,sourceport=40055' 2>&1)
[ "$out" != local-resolver ] && tap_pass "turned off: 1799 is only a mark again" ||
	tap_fail "turned off: 1799 is only a mark again" "$out"

for m in 1700 1701 1702 1710 1711 1712 1717 1799; do
	n=$(stat_of verdict_$m)
	[ "${n:-0}" -gt 0 ] && tap_pass "verdicts counted: $m ($n)" || tap_fail "verdicts counted: $m" "got '$n'"
done
listener_stop
tap_ok "module unloads" pm_unload
tap_done

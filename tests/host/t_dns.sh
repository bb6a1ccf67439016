# Mark 1799: with reroute_dns on, DNS sent to another server is given 1799
# and the seed's NAT rule sends it to the configured nameserver (here one
# other than portmasterd's own resolver, which is off).

t_dns() {
	local out
	mkdir -p "$CONF"
	rm -f "$CONF/rules.conf"
	printf 'resolver = none\nreroute_dns = yes\nnameserver = 127.0.0.1:53\n' >"$CONF/portmasterd.conf"
	# "DNS servers" that say who they are: ours here, another one there.
	ip netns exec "$C" python3 "$HERE/oksrv.py" --say local --bind 127.0.0.1 udp/53 >/dev/null 2>&1 &
	PIDS+=($!)
	ip netns exec "$S" python3 "$HERE/oksrv.py" --say remote udp/53 >/dev/null 2>&1 &
	PIDS+=($!)
	wait_port "$C" udp 53; wait_port "$S" udp 53
	out=$(echo q | inc socat -t 2 - UDP4:10.77.0.2:53)
	tap_is "without portmasterd the query reaches the other server" "$out" "remote"
	if ! start_daemon; then
		tap_fail "daemon starts with reroute_dns"
		return
	fi
	out=$(echo q | inc socat -t 2 - UDP4:10.77.0.2:53)
	tap_is "reroute_dns: a query to another server is answered by the nameserver" "$out" "local"
	tap_is "reroute_dns: the flow carries mark 1799" \
		"$(inc conntrack -L -p udp --orig-dst 10.77.0.2 --orig-port-dst 53 2>/dev/null | grep -o 'mark=[0-9]*')" "mark=1799"
	out=$(echo q | inc socat -t 2 - UDP4:127.0.0.1:53)
	tap_is "reroute_dns: a query to the nameserver itself is left alone" "$out" "local"
	stop_daemon TERM
	rm -f "$CONF/portmasterd.conf"
}

# One daemon, two network namespaces with identical addresses: flows with
# identical tuples are two flows, each decided and answered in its own
# namespace, where the daemon set up its own queues and rules, and each
# recorded with its own totals from its own namespace's conntrack.

t_identity() {
	local C2=pmt-c2-$$ S2=pmt-s2-$$ id1 id2 out mon
	EXTRA_NS+=("$C2" "$S2")
	if ! { ip netns add "$C2" && ip netns add "$S2" &&
		ip link add pmt2 netns "$C2" type veth peer name pmt3 netns "$S2" &&
		ip -n "$C2" link set lo up && ip -n "$S2" link set lo up &&
		ip -n "$C2" addr add 10.77.0.1/24 dev pmt2 && ip -n "$S2" addr add 10.77.0.2/24 dev pmt3 &&
		ip -n "$C2" link set pmt2 up && ip -n "$S2" link set pmt3 up; }; then
		tap_fail "set up a second pair of namespaces with the same addresses"
		return
	fi
	ip netns exec "$S" python3 "$TOP/tests/scenarios/echo.py" --say one udp/7100 >/dev/null 2>&1 &
	PIDS+=($!)
	ip netns exec "$S2" python3 "$TOP/tests/scenarios/echo.py" --say two udp/7100 >/dev/null 2>&1 &
	PIDS+=($!)
	wait_port "$S" udp 7100 && wait_port "$S2" udp 7100
	mkdir -p "$CONF"
	rm -f "$CONF/rules.conf"
	printf 'netns = %s  # and our own\n' "$C2" >"$CONF/portmasterd.conf"
	if ! start_daemon; then
		tap_fail "daemon starts watching a second namespace" "$(tail -3 "$WORK/pmd.log")"
		return
	fi
	tap_is "it watches two namespaces" "$(stat_of netns)" 2
	tap_is "its rules are in the other namespace too" \
		"$(ip netns exec "$C2" iptables-nft-save -t filter | grep -c -- '-j C17$')" 2
	"$PMCTL" default ask >/dev/null
	for ns in "$C" "$C2"; do
		ip netns exec "$ns" python3 "$TOP/tests/scenarios/client.py" udp 10.77.0.2 7100 \
			--sport 41100 --msg x --timeout 10 >"$WORK/id-$ns.out" 2>&1 &
	done
	for _ in $(seq 1 50); do
		[ "$("$PMCTL" -t pending | awk -F'\t' '$7 == 7100 && $5 == 41100' | wc -l)" = 2 ] && break
		sleep 0.1
	done
	out=$("$PMCTL" -t pending | awk -F'\t' '$7 == 7100 { print $4, $5, $6, $7, $12 }' | sort)
	tap_is "identical tuples in two namespaces: two flows waiting, told apart by namespace" "$out" \
		"10.77.0.1 41100 10.77.0.2 7100 -
10.77.0.1 41100 10.77.0.2 7100 $C2"
	id1=$("$PMCTL" -t pending | awk -F'\t' '$7 == 7100 && $12 == "-" { print $1 }')
	id2=$("$PMCTL" -t pending | awk -F'\t' -v n="$C2" '$7 == 7100 && $12 == n { print $1 }')
	"$PMCTL" verdict "$id2" block >/dev/null
	"$PMCTL" verdict "$id1" allow >/dev/null
	wait_file_lines() { for _ in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
	wait_file_lines "$WORK/id-$C.out"
	tap_is "the one allowed in our namespace gets its answer there" "$(cat "$WORK/id-$C.out")" "one:x"
	wait_file_lines "$WORK/id-$C2.out"
	tap_is "the one blocked in the other namespace gets nothing" "$(cut -c1-6 "$WORK/id-$C2.out")" "error:"
	tap_is "each carries its own verdict on its own conntrack" \
		"$(inc conntrack -L -p udp --dport 7100 2>/dev/null | grep -o 'mark=[0-9]*') $(ip netns exec "$C2" conntrack -L -p udp --dport 7100 2>/dev/null | grep -c .)" \
		"mark=1710 0"
	# Conntrack's totals come from each namespace watched: a flow of
	# each, allowed, with messages of different lengths, is recorded
	# with its own bytes when conntrack forgets it there.
	tap_is "conntrack accounting is on in the other namespace too" \
		"$(ip netns exec "$C2" sysctl -n net.netfilter.nf_conntrack_acct 2>&1)" 1
	"$PMCTL" default allow >/dev/null
	ip netns exec "$C" python3 "$TOP/tests/scenarios/client.py" udp 10.77.0.2 7100 \
		--sport 41101 --msg yy --timeout 10 >"$WORK/acct-1.out" 2>&1
	ip netns exec "$C2" python3 "$TOP/tests/scenarios/client.py" udp 10.77.0.2 7100 \
		--sport 41101 --msg zzzzz --timeout 10 >"$WORK/acct-2.out" 2>&1
	tap_is "a flow allowed in each namespace gets its answer there" \
		"$(cat "$WORK/acct-1.out" "$WORK/acct-2.out")" "one:yy
two:zzzzz"
	# Live traffic (pmctl top, the web UI) samples every namespace's
	# table: the three flows conntrack holds, two here and one there.
	"$PMCTL" -j monitor --events traffic >"$WORK/id-traffic.out" 2>&1 &
	mon=$!
	for _ in $(seq 1 50); do
		out=$(python3 -c '
import json, sys
print(max([json.loads(l).get("conns", 0) for l in open(sys.argv[1]) if l.startswith("{")] + [0]))' \
			"$WORK/id-traffic.out" 2>&1)
		[ "$out" = 3 ] && break
		sleep 0.2
	done
	kill "$mon" 2>/dev/null
	wait "$mon" 2>/dev/null
	tap_is "live traffic counts the connections of both namespaces" "$out" 3
	inc conntrack -D -p udp --dport 7100 >/dev/null 2>&1
	ip netns exec "$C2" conntrack -D -p udp --dport 7100 >/dev/null 2>&1
	# Each row: 28 bytes of headers and a line each way; out "x" or "yy"
	# (ours, from 41100 and 41101) and "zzzzz" (the other's); in, the
	# same after "one:" or "two:".
	for _ in $(seq 1 50); do
		out=$("$PMCTL" -j history --verdict allow | python3 -c '
import json, sys
print(" ".join(sorted("%d/%d" % (r["bytes_out"], r["bytes_in"]) for r in json.load(sys.stdin)
    if r["kind"] == "flow" and r["port"] == 7100 and r["end"] != "-")))')
		[ "$out" = "30/34 31/35 34/38" ] && break
		sleep 0.2
	done
	tap_is "each namespace's flow ends in the history with its own bytes" "$out" \
		"30/34 31/35 34/38"
	stop_daemon TERM
	tap_is "at exit its rules leave the other namespace too" \
		"$(ip netns exec "$C2" iptables-nft-save 2>/dev/null | grep -c C17)" 0
	rm -f "$CONF/portmasterd.conf"
}

# Real traffic through the fallback: curl, socat and ping, IPv4 and IPv6.

# curl_time URL [curl args]: prints "EXITCODE MILLISECONDS"
curl_time() {
	local url=$1 t0 rc
	shift
	t0=$(now_ms)
	inc curl -sS -g -o /dev/null --connect-timeout 3 -m 5 "$@" "$url" 2>/dev/null
	rc=$?
	echo "$rc $(( $(now_ms) - t0 ))"
}

ct_mark_of() { # proto dport: marks of conntrack entries to that port
	inc conntrack -L -p "$1" --dport "$2" 2>/dev/null | grep -o 'mark=[0-9]*' | sort -u | tr '\n' ' '
}

allowed_flow() { # family addr dst-as-listed
	local fam=$1 url=http://$2/ out n
	inc conntrack -F >/dev/null 2>&1
	out=$(inc curl -sS -g -m 5 "$url")
	tap_is "$fam: curl through the fallback (default allow) gets the page" "$out" "hello"
	tap_is "$fam: the allowed connection carries conntrack mark 1710" "$(ct_mark_of tcp 80)" "mark=1710 "
	# The daemon counts, per flow, the packets the queues gave it.
	n=$("$PMCTL" -t list | awk -F'\t' -v d="$3" '$6 == d && $7 == 80 { n = $12 } END { print n }')
	tap_is "$fam: only its first packet was queued" "$n" "1"
}

t_traffic() {
	local r rc ms id pid exe out before after
	if ! start_daemon; then
		tap_fail "daemon starts for the traffic tests"
		return
	fi
	allowed_flow IPv4 10.77.0.2 10.77.0.2
	allowed_flow IPv6 "[fd77::2]" fd77::2

	# The pid and executable of a curl we start ourselves.
	ip netns exec "$C" curl -sS -o /dev/null -m 5 http://10.77.0.2/ 2>/dev/null &
	pid=$!
	wait $pid
	out=$("$PMCTL" -t list | awk -F'\t' -v p=$pid '$8 == p { print $8 "\t" $10 }' | tail -n 1)
	tap_is "attribution: pid and executable of a curl we started" "$out" "$pid	$(readlink -f "$(command -v curl)")"
	tap_diag "attribution: mean cost of one lookup $(stat_of attrib_avg_ns) ns ($(stat_of attrib_ok) found, $(stat_of attrib_fail) not)"

	# socat over UDP, both families: the echo comes back, the flow is marked.
	out=$(echo ping4 | inc socat -t 2 - UDP4:10.77.0.2:7)
	tap_is "IPv4: socat UDP echo through the fallback" "$out" "ping4"
	out=$(echo ping6 | inc socat -t 2 - UDP6:[fd77::2]:7)
	tap_is "IPv6: socat UDP echo through the fallback" "$out" "ping6"
	tap_is "UDP flows carry conntrack mark 1710" "$(ct_mark_of udp 7)" "mark=1710 "

	# ping, both families.
	tap_ok "IPv4: ping through the fallback" inc ping -c 1 -W 2 10.77.0.2
	tap_ok "IPv6: ping through the fallback" inc ping -6 -c 1 -W 2 fd77::2

	# Blocked: fails at once (ICMP reject), not by timeout.
	"$PMCTL" rule add block --port 8081 --until-restart >/dev/null
	for a in 10.77.0.2 "[fd77::2]"; do
		r=$(curl_time "http://$a:8081/"); rc=${r% *}; ms=${r#* }
		# exit 7 (refused by the ICMP error), not 28 (timed out, a drop)
		if [ "$rc" = 7 ]; then
			tap_pass "blocked connection to $a fails at once (curl exit 7 after $ms ms)"
		else
			tap_fail "blocked connection to $a fails at once" "curl exit $rc after $ms ms"
		fi
	done
	# Dropped: nothing comes back, the client times out.
	"$PMCTL" rule add drop --port 8082 --until-restart >/dev/null
	for a in 10.77.0.2 "[fd77::2]"; do
		r=$(curl_time "http://$a:8082/" --connect-timeout 2); rc=${r% *}; ms=${r#* }
		if [ "$rc" = 28 ] && [ "$ms" -ge 1900 ]; then
			tap_pass "dropped connection to $a times out (curl exit 28 after $ms ms)"
		else
			tap_fail "dropped connection to $a times out" "curl exit $rc after $ms ms"
		fi
	done
	# Blocked ping gets "prohibited" back at once.
	"$PMCTL" rule add block --proto icmp --dst fd77::2 --until-restart >/dev/null
	out=$(inc ping -6 -c 1 -W 3 fd77::2 2>&1)
	if echo "$out" | grep -qi 'prohibit\|unreachable'; then
		tap_pass "IPv6: blocked ping is answered 'administratively prohibited'"
	else
		tap_fail "IPv6: blocked ping is answered 'administratively prohibited'" "$out"
	fi
	tap_ok "IPv4: ping still allowed (the rule is for fd77::2 only)" inc ping -c 1 -W 2 10.77.0.2

	# Inbound: a connection from the server namespace to a listener here.
	ip netns exec "$C" socat -t 5 TCP6-LISTEN:9000,fork,reuseaddr,ipv6only=0 SYSTEM:'echo in-ok' >/dev/null 2>&1 &
	PIDS+=($!)
	ip netns exec "$C" socat -t 5 TCP6-LISTEN:9001,fork,reuseaddr,ipv6only=0 SYSTEM:'echo in-ok' >/dev/null 2>&1 &
	PIDS+=($!)
	wait_port "$C" tcp 9000; wait_port "$C" tcp 9001
	"$PMCTL" rule add block --dir in --port 9001 --until-restart >/dev/null
	out=$(ins socat -t 2 - TCP:10.77.0.1:9000 </dev/null 2>&1)
	tap_is "inbound connection allowed by default reaches the local listener" "$out" "in-ok"
	out=$("$PMCTL" -t list | awk -F'\t' '$2 == "in" && $7 == 9000 { print $10 }' | tail -n 1)
	tap_is "inbound flow is attributed to the listening socat" "$out" "$(readlink -f "$(command -v socat)")"
	t0=$(now_ms)
	out=$(ins socat -T 3 - TCP:10.77.0.1:9001,connect-timeout=3 </dev/null 2>&1)
	rc=$?; ms=$(( $(now_ms) - t0 ))
	# refused by an answer, not timed out as a drop would be
	if [ "$rc" != 0 ] && echo "$out" | grep -qi 'refused\|no route\|unreachable'; then
		tap_pass "inbound connection blocked by a dir=in rule is refused at once ($ms ms)"
	else
		tap_fail "inbound connection blocked by a dir=in rule is refused at once" "exit $rc after $ms ms: $out"
	fi

	# A rule change has the connections decided before it decided again:
	# their kept marks are cleared (in batches, off the verdict path), the
	# entries stay, and each one's next packet comes back to the daemon.
	inc curl -s -o /dev/null -m 5 http://10.77.0.2/
	before=$(inc conntrack -L -m 1710 2>/dev/null | wc -l)
	local entries
	entries=$(inc conntrack -L 2>/dev/null | wc -l)
	"$PMCTL" rule add allow --port 1 --until-restart >/dev/null
	for _ in $(seq 1 50); do
		after=$(inc conntrack -L -m 1710 2>/dev/null | wc -l)
		[ "$after" = 0 ] && break
		sleep 0.1
	done
	if [ "$before" -gt 0 ] && [ "$after" = 0 ] &&
		[ "$(inc conntrack -L 2>/dev/null | wc -l)" -ge "$entries" ]; then
		tap_pass "rule change clears the 1710 marks ($before before, 0 after), deleting no entry"
	else
		tap_fail "rule change clears the 1710 marks, deleting no entry" "before $before, after $after"
	fi
	# A once rule: its one connection, kept on it (1710), then it is gone.
	"$PMCTL" default block >/dev/null
	"$PMCTL" rule add allow --port 8080 --once >/dev/null
	out=$(inc curl -sS --http0.9 -m 3 http://10.77.0.2:8080/ 2>&1)
	tap_is "once rule lets its one connection through" "$out" "ok"
	tap_is "once rule: its connection is marked 1710 on conntrack" "$(ct_mark_of tcp 8080)" "mark=1710 "
	r=$(curl_time http://10.77.0.2:8080/); rc=${r% *}
	tap_is "once rule is used up: the next connection meets the default (block)" "$rc" "7"
	"$PMCTL" default allow >/dev/null
	stop_daemon TERM
}

# A rule change with 20,000 conntrack entries: every kept mark is cleared
# in batches, off the verdict path, and verdicts for new flows keep coming
# meanwhile (the longest wait a client saw is reported).

t_scale() {
	local out n gap cleared running rv ms
	mkdir -p "$CONF"
	rm -f "$CONF/rules.conf" "$CONF/portmasterd.conf"
	if ! start_daemon; then
		tap_fail "daemon starts for the scale test"
		return
	fi
	# 20,000 connections decided before (as a long-running machine has)
	seq 1 20000 | awk '{ printf "-I -s 10.9.%d.%d -d 10.77.0.2 -p udp --sport %d --dport 53 --timeout 600 --mark 1710\n", int($1 / 250), $1 % 250 + 1, 10000 + $1 }' \
		>"$WORK/ct.txt"
	inc conntrack -R "$WORK/ct.txt" >/dev/null 2>&1
	n=$(inc conntrack -L -m 1710 -s 10.9.0.0/16 2>/dev/null | wc -l)
	tap_is "20,000 conntrack entries carry mark 1710" "$n" 20000
	ip netns exec "$S" python3 "$TOP/tests/scenarios/echo.py" udp/7009 >/dev/null 2>&1 &
	PIDS+=($!)
	wait_port "$S" udp 7009
	inc python3 "$HERE/flows.py" 10.77.0.2 7009 4 >"$WORK/flows.out" &
	local gen=$!
	sleep 1
	"$PMCTL" rule add allow --port 1 --until-restart >/dev/null
	wait "$gen"
	read -r n gap <"$WORK/flows.out"
	for _ in $(seq 1 100); do
		[ "$(stat_of ct_reset)" = idle ] && break
		sleep 0.1
	done
	cleared=$(stat_of ct_cleared)
	rv=$(stat_of reset_verdicts)
	ms=$(stat_of ct_reset_ms)
	local loop
	loop=$(stat_of loop_max_us)
	tap_diag "one pass over 20,000 entries took $ms ms; a client opening new flows throughout: $n answered, longest wait $gap ms; verdicts given during the pass: $rv; the loop's longest turn: $loop us"
	[ "${cleared:-0}" -ge 20000 ] && tap_pass "the rule change cleared every kept mark ($cleared)" ||
		tap_fail "the rule change cleared every kept mark" "ct_cleared=$cleared"
	tap_is "no entry of those kept its mark" "$(inc conntrack -L -m 1710 -s 10.9.0.0/16 2>/dev/null | wc -l)" 0
	[ "${rv:-0}" -gt 0 ] && tap_pass "new flows were decided while the pass ran ($rv verdicts)" ||
		tap_fail "new flows were decided while the pass ran" "reset_verdicts=$rv (pass of $ms ms)"
	# generous: a stall of the loop for the whole pass would show
	[ "${gap:-99999}" -lt 2000 ] && tap_pass "no client waited 2 s or more for a verdict (longest $gap ms)" ||
		tap_fail "no client waited 2 s or more for a verdict" "longest $gap ms"
	inc conntrack -D -s 10.9.0.0/16 >/dev/null 2>&1
	stop_daemon TERM
}

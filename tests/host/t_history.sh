# The history: every flow recorded with its program, verdict and totals
# (conntrack accounting), kept across restarts, queried with pmctl
# history; pmctl monitor streams the same events; a broken database file
# or a full disk is reported and never stops a verdict.

# hist_rows FILTER...: pmctl -j history as "exe verdict peer port bytes_in end" lines
hist_rows() {
	"$PMCTL" -j history "$@" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["kind"] == "flow":
        print(r["exe"], r["verdict"], r["peer"], r["port"], r["bytes_in"], "ended" if r["end"] != "-" else "open")'
}

# wait_hist PATTERN FILTER...: polls until a history row matches (10 s)
wait_hist() {
	local pat=$1
	shift
	for _ in $(seq 1 50); do
		hist_rows "$@" | grep -qE "$pat" && return 0
		sleep 0.2
	done
	return 1
}

t_history() {
	local curl out n mon
	curl=$(readlink -f "$(command -v curl)")
	rm -f "$CONF/rules.conf" "$CONF/portmasterd.conf" "$WORK"/history.db*
	if ! start_daemon; then
		tap_fail "daemon starts for the history tests"
		return
	fi
	"$PMCTL" -j monitor >"$WORK/monitor.out" 2>&1 &
	mon=$!
	sleep 0.3
	out=$(inc curl -sS -m 10 http://10.77.0.2/ 2>&1)
	tap_is "a connection with the history on works as before" "$out" "hello"
	# conntrack's own ids of the connections to port 80, by source port
	inc conntrack -L -p tcp --dport 80 -o id 2>/dev/null |
		sed -n 's/.* sport=\([0-9]*\) dport=80 .*id=\([0-9]*\).*/\1 \2/p' >"$WORK/ct-ids"
	# The flow ends for conntrack when its entry goes: delete it now
	# rather than wait out TIME_WAIT.
	inc conntrack -D -p tcp --dport 80 >/dev/null 2>&1
	if wait_hist "^$curl allow 10.77.0.2 80 [1-9][0-9]* ended$" --exe "$curl"; then
		tap_pass "pmctl history lists the flow: program, verdict, peer, port, bytes in, end"
	else
		tap_fail "pmctl history lists the flow: program, verdict, peer, port, bytes in, end" \
			"$(hist_rows; "$PMCTL" status | grep -E 'history|ct_')"
	fi
	out=$("$PMCTL" -j history --exe "$curl" | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin) if x["kind"] == "flow"][-1]
print(r["dir"], r["proto"], r["bytes_out"] > 0, r["packets_in"] > 0, r["start"] <= r["end"], r["pid"] > 0)')
	tap_is "the row has direction, protocol, bytes and packets each way, times and pid" \
		"$out" "out tcp True True True True"
	n=$(hist_rows --exe /usr/bin/nonexistent | wc -l)
	tap_is "--exe of another program lists none of it" "$n" "0"
	tap_is "the database is root's alone (0600)" "$(stat -c %a "$WORK/history.db")" "600"

	kill "$mon" 2>/dev/null; wait "$mon" 2>/dev/null
	out=$(python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
kinds = {e["event"] for e in ev if e.get("exe") == sys.argv[2] and e.get("dport") == 80}
print(" ".join(sorted(kinds)))' "$WORK/monitor.out" "$curl" 2>&1)
	tap_is "pmctl -j monitor streamed the flow and its end as JSON lines" "$out" "end flow"
	# The flow's conntrack id is the one conntrack -L -o id shows (CTA_ID
	# read as big-endian), as in module mode (tests/vm/t-history.sh).
	out=$(python3 -c '
import json, sys
ct = dict(l.split() for l in open(sys.argv[3]) if l.strip())
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
f = [e for e in ev if e["event"] == "flow" and e.get("exe") == sys.argv[2] and e.get("dport") == 80]
if not f: print("no flow event")
elif not f[-1]["ct"]: print("no id")
elif str(f[-1]["sport"]) not in ct: print("conntrack lists no entry from port %d" % f[-1]["sport"])
else: print("same" if ct[str(f[-1]["sport"])] == str(f[-1]["ct"]) else
           "ours %d, conntrack %s" % (f[-1]["ct"], ct[str(f[-1]["sport"])]))' \
		"$WORK/monitor.out" "$curl" "$WORK/ct-ids" 2>&1)
	if [ "$out" = "no id" ]; then
		tap_skip "the flow's conntrack id is conntrack's own" \
			"NFQUEUE gives no conntrack id here (CONFIG_NETFILTER_NETLINK_GLUE_CT)"
	else
		tap_is "the flow's conntrack id is the one conntrack -L -o id shows" "$out" "same"
	fi

	# Blocked flows are recorded with their verdict and rule.
	"$PMCTL" rule add block --port 8081 --until-restart >/dev/null
	inc curl -sS -m 5 http://10.77.0.2:8081/ >/dev/null 2>&1
	if wait_hist "^$curl block 10.77.0.2 8081 " --verdict block; then
		n=$(hist_rows --verdict block | grep -vc " block ")
		tap_is "--verdict block lists the blocked flow and nothing else" "$n" "0"
	else
		tap_fail "--verdict block lists the blocked flow" "$(hist_rows)"
	fi
	# --since through the daemon: the window ends now and reaches back
	# DURATION; the port-80 flow is in an hour's, and, once it is older
	# than 2 s, not in the last second's.
	n=$(hist_rows --since 1h --exe "$curl" | grep -c " 80 ")
	tap_is "--since 1h lists the fresh flow" "$n" "1"
	t0=$("$PMCTL" -j history --exe "$curl" | python3 -c '
import json, sys
print(min(r["start"] for r in json.load(sys.stdin) if r["kind"] == "flow" and r["port"] == 80))')
	while [ "$(now_ms)" -le $((t0 + 2000)) ]; do sleep 0.2; done
	n=$(hist_rows --since 1s --exe "$curl" | grep -c " 80 ")
	tap_is "--since 1s leaves it out once it is 2 s old" "$n" "0"
	n=$(hist_rows --since 1d --verdict block | grep -c " 8081 ")
	tap_is "--since with another filter: both apply" "$n" "1"
	out=$("$PMCTL" history --since 1x 2>&1)
	tap_is "a bad --since is a usage error (exit 2)" "$?" "2"
	case $out in
	*"a duration is like 90, 30s, 15m, 2h or 1d"*) tap_pass "and says what a duration is" ;;
	*) tap_fail "a bad --since says what a duration is" "$out" ;;
	esac
	"$PMCTL" history --since 0 >/dev/null 2>&1
	tap_is "--since 0 is refused too (exit 2)" "$?" "2"
	# What a user sees in ps: the writer on idle CPU time while it keeps
	# up (SCHED_IDLE, "IDL"); user-history tests its way back.  A query
	# hurries it until the next tick, so the class is read a few times.
	for _ in $(seq 1 20); do
		out=$(ps -L -o comm=,cls= -p "$DAEMON_PID" | awk '$1 == "pm-history" { print $2 }')
		[ "$out" = IDL ] && break
		sleep 0.1
	done
	tap_is "ps -L: the history's writer runs on idle time (class IDL)" "$out" "IDL"

	# It survives a restart.
	stop_daemon TERM
	start_daemon || { tap_fail "daemon restarts for the history"; return; }
	n=$(hist_rows --exe "$curl" | grep -c " 80 ")
	tap_is "after a restart the flow is still in the history" "$n" "1"

	# A broken file: moved aside, reported, verdicts go on.
	stop_daemon TERM
	head -c 65536 /dev/urandom >"$WORK/history.db"
	rm -f "$WORK/history.db-wal" "$WORK/history.db-shm"
	if ! start_daemon; then
		tap_fail "the daemon starts with a broken history file"
		return
	fi
	tap_pass "the daemon starts with a broken history file"
	out=$(inc curl -sS -m 10 http://10.77.0.2/ 2>&1)
	tap_is "and decides flows as before" "$out" "hello"
	out=$("$PMCTL" -t status | awk -F'\t' '$1 == "history_error"' | cut -f2)
	case $out in
	*broken*) tap_pass "pmctl status reports it: $out" ;;
	*) tap_fail "pmctl status reports the broken file" "history_error: '$out'" ;;
	esac
	n=$(ls "$WORK"/history.db.broken-* 2>/dev/null | wc -l)
	tap_is "the broken file is kept aside, a new one started" "$n" "1"
	wait_hist "^$curl allow 10.77.0.2 80 " --exe "$curl" &&
		tap_pass "the new file records flows" || tap_fail "the new file records flows" "$(hist_rows)"
	stop_daemon TERM

	# A full disk: rows are lost and counted, verdicts go on.
	mkdir -p "$WORK/full"
	if ! mount -t tmpfs -o size=1m tmpfs "$WORK/full" 2>/dev/null; then
		tap_skip "a full disk" "cannot mount a tmpfs here"
		return
	fi
	start_daemon --history "$WORK/full/history.db" || { tap_fail "daemon starts on a small disk"; umount "$WORK/full"; return; }
	head -c 2m /dev/zero >"$WORK/full/filler" 2>/dev/null
	for _ in 1 2 3; do inc curl -sS -m 10 http://10.77.0.2/ >/dev/null 2>&1; done
	out=$(inc curl -sS -m 10 http://10.77.0.2/ 2>&1)
	tap_is "with the disk full, flows are decided as before" "$out" "hello"
	for _ in $(seq 1 50); do
		[ "$(stat_of history_lost)" -gt 0 ] 2>/dev/null && break
		sleep 0.2
	done
	out="$(stat_of history_lost) $(stat_of history_error)"
	case $out in
	[1-9]*full*) tap_pass "and the lost rows are counted and reported: $out" ;;
	*) tap_fail "the lost rows are counted and reported" "$out" ;;
	esac
	stop_daemon TERM
	umount "$WORK/full"
}

# The history in module mode: portmasterd with portmaster.ko records each
# flow with its program and verdict, and conntrack's destroy event gives
# its bytes and end, as in the fallback (tests/host/t_history.sh); pmctl
# monitor streams the same events as JSON lines.
. tests/vm/lib.sh
PMD=$PWD/build/bin/portmasterd
PMCTL=$PWD/build/bin/pmctl
trap 'kill -KILL $PMD_PID $MON_PID 2>/dev/null; cleanup' EXIT

pm_load || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
srv_tcp 8601
srv_tcp 8602
wait_port srv 8602 t
mkdir -p "$T/conf"
pmctl() { ip netns exec cli "$PMCTL" -s "$T/ctl.sock" "$@"; }
ip netns exec cli "$PMD" --mode kmod --foreground --config "$T/conf" --socket "$T/ctl.sock" \
	--history "$T/history.db" --ui off >>"$T/pmd.log" 2>&1 &
PMD_PID=$!
if wait_until 10 test -S "$T/ctl.sock" && wait_until 10 pmctl status >/dev/null; then
	tap_pass "portmasterd starts in module mode with the history on"
else
	tap_fail "portmasterd starts in module mode with the history on" "$(cat "$T/pmd.log")"
	tap_done
	exit 1
fi
tap_is "pmctl status: mode kmod" "$(pmctl -t status | awk -F'\t' '$1 == "mode" {print $2}')" kmod
pmctl -j monitor >"$T/monitor.out" 2>&1 &
MON_PID=$!
sleep 0.5
pmctl rule add block --port 8602 --until-restart >/dev/null

# -t 30: the client's EOF must not close the connection before the
# answer comes, however slow the guest (as tests/vm/t-bounds.sh)
tap_is "an allowed connection works" "$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8601 </dev/null 2>&1)" hello
in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8602 </dev/null >/dev/null 2>&1
ct_ids=$(in_cli conntrack -L -p tcp -o id 2>/dev/null | sed -n 's/.*dport=\(86..\) .*id=\([0-9]*\).*/\1:\2/p' | sort -u | tr '\n' ' ')
# Its end comes when conntrack lets it go: now, not after TIME_WAIT.
in_cli conntrack -D -p tcp >/dev/null 2>&1

rows() {
	pmctl -j history --flows | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["exe"], r["verdict"], r["port"], r["bytes_in"] if r["bytes_in"] != "-" else 0,
          "ended" if r["end"] != "-" else "open")'
}
for _ in $(seq 1 75); do
	rows | grep -q '^/usr/bin/socat allow 8601 [1-9][0-9]* ended$' && break
	sleep 0.2
done
if rows | grep -q '^/usr/bin/socat allow 8601 [1-9][0-9]* ended$'; then
	tap_pass "pmctl history: socat's allowed flow with its bytes in and its end"
else
	tap_fail "pmctl history: socat's allowed flow with its bytes in and its end" "$(rows)" \
		"$(pmctl status | grep -E 'history|ct_')"
fi
if rows | grep -q '^/usr/bin/socat block 8602 '; then
	tap_pass "and the blocked one, with its verdict"
else
	tap_fail "and the blocked one, with its verdict" "$(rows)"
fi
kill "$MON_PID" 2>/dev/null
out=$(python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(" ".join(sorted({e["event"] for e in ev if e.get("dport") == 8601})))' "$T/monitor.out" 2>&1)
tap_is "pmctl -j monitor streamed the flow and its end" "$out" "end flow"
# The module's conntrack id of each flow, as portmasterd published it.
mod_ids=$(python3 -c '
import json, sys
print(" ".join(sorted({"%d:%d" % (e["dport"], e["ct"]) for e in map(json.loads, filter(str.strip, open(sys.argv[1]))) if e.get("event") == "flow"})))' "$T/monitor.out" 2>&1)
# The same entry, the same id: the module's nf_ct_get_id() read as
# conntrack(8) reads CTA_ID (intercept/kmod_msg.c), so the allowed flow's
# id is the one conntrack -L -o id showed for it.
mod_8601=$(echo "$mod_ids" | tr ' ' '\n' | grep '^8601:' | tail -n 1)
case " $ct_ids " in
*" ${mod_8601:-none} "*) tap_pass "the flow's conntrack id is the one conntrack -L -o id shows ($mod_8601)" ;;
*) tap_fail "the flow's conntrack id is the one conntrack -L -o id shows" \
	"conntrack says $ct_ids; portmasterd said $mod_ids" ;;
esac
kill -TERM "$PMD_PID"
wait "$PMD_PID"
tap_is "SIGTERM: portmasterd exits cleanly, history written" "$?" 0
n=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM flows WHERE port IN (8601, 8602)").fetchone()[0])' "$T/history.db" 2>&1)
tap_is "the database holds both flows after the daemon is gone" "$n" 2
tap_done

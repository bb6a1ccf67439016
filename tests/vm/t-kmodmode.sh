# What only module mode has: fallback rules a killed daemon left behind are
# removed when it starts, fail_policy goes to the module, and flows whose
# events were lost are fetched again.
. tests/vm/lib.sh
PMD=$PWD/build/bin/portmasterd
PMCTL=$PWD/build/bin/pmctl
PMD_PID=
trap 'kill -KILL $PMD_PID 2>/dev/null; cleanup' EXIT

pm_load || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
ip -n srv addr add 10.0.0.3/24 dev veth1
mkdir -p "$T/conf"

pmd_stop() {
	[ -n "$PMD_PID" ] || return 0
	kill -TERM "$PMD_PID" 2>/dev/null
	wait "$PMD_PID" 2>/dev/null
	PMD_PID=
}
pmd_start() {	# [ARGS...]
	ip netns exec cli "$PMD" --foreground --config "$T/conf" --socket "$T/ctl.sock" "$@" \
		>>"$T/pmd.log" 2>&1 &
	PMD_PID=$!
	wait_until 20 test -S "$T/ctl.sock" && wait_until 20 sc_pmctl status >/dev/null
}
sc_pmctl() { in_cli "$PMCTL" -s "$T/ctl.sock" "$@"; }
in_srv python3 tests/scenarios/echo.py tcp/7008 udp/7007 >/dev/null 2>&1 &
SERVERS="${SERVERS:-} $!"
wait_port srv 7008 t


# A daemon killed in the fallback leaves the seed's rules; module mode
# removes them when it starts (with nobody reading their queues they would
# drop every new flow).
pmd_stop
printf 'mode = nfqueue\n' >"$T/conf/portmasterd.conf"
rm -f "$T/conf/rules.conf"
pmd_start --mode nfqueue
tap_is "fallback started in the VM: its rules are in" \
	"$(in_cli iptables-save 2>/dev/null | grep -c -- '-j C17$')" 2
kill -KILL "$PMD_PID"
wait "$PMD_PID" 2>/dev/null
PMD_PID=
printf 'mode = kmod\nfail_policy = closed\nremember = 0\n' >"$T/conf/portmasterd.conf"
pmd_start && tap_pass "module mode starts after a killed fallback daemon" ||
	tap_fail "module mode starts after a killed fallback daemon" "$(tail -5 "$T/pmd.log")"
tap_is "and removed the rules it left behind" \
	"$(in_cli iptables-save 2>/dev/null | grep -c 'C17')" 0
out=$(in_cli python3 tests/scenarios/client.py tcp 10.0.0.2 7008 --msg after)
tap_is "new connections work again" "$out" after
in_cli sh -c 'python3 tests/scenarios/client.py tcp 10.0.0.2 7008 --msg p >/dev/null; echo $$ >"$1"' _ "$T/parent"
tap_is "pmctl list -j carries the owner's parent" \
	"$(sc_pmctl -j list | python3 -c 'import json,sys; print([f for f in json.load(sys.stdin) if f["dport"] == 7008][-1]["ppid"])')" \
	"$(cat "$T/parent")"
tap_is "fail_policy from portmasterd.conf is the module's" \
	"$(in_cli "$PM_LISTENER" config | sed -n 's/^policy=//p')" closed

# Lost events: a receive buffer of 4 KiB, a daemon stopped while 30 flows
# start, then let go.  ENOBUFS tells it events were lost; it fetches the
# pending flows (PM_CMD_GET_FLOWS) and decides them; the module keeps a
# flow whose event it could not deliver pending for that dump.
pmd_stop
printf 'mode = kmod\nevent_buffer = 4096\nremember = 0\nprompt_timeout = 30s\n' >"$T/conf/portmasterd.conf"
pmd_start || tap_fail "daemon starts with a 4 KiB event buffer" "$(tail -5 "$T/pmd.log")"
kill -STOP "$PMD_PID"
in_cli python3 - >"$T/lost.out" 2>&1 <<'PY' &
import socket, threading
ok = []
def one():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(25)
    try:
        s.sendto(b"x\n", ("10.0.0.2", 7007))
        s.recv(64)
        ok.append(1)
    except OSError:
        pass
ts = [threading.Thread(target=one) for _ in range(30)]
[t.start() for t in ts]
[t.join() for t in ts]
print(len(ok))
PY
lost=$!
wait_until 15 sh -c "[ \$(ip netns exec cli '$PM_LISTENER' stats pending) -ge 30 ]"
sleep 1
kill -CONT "$PMD_PID"
wait "$lost"
n=$(sc_pmctl -t status | awk -F'\t' '$1 == "recovered" { print $2 }')
tap_diag "lost events: overruns $(sc_pmctl -t status | awk -F'\t' '$1 == "overruns" { print $2 }'), recovered $n, module event_failed $(stat_of event_failed)"
tap_is "all 30 flows got their answer" "$(cat "$T/lost.out")" 30
[ "${n:-0}" -gt 0 ] && tap_pass "flows whose events were lost were fetched again and decided ($n)" ||
	tap_fail "flows whose events were lost were fetched again and decided" "recovered=$n" \
		"$(grep -i 'lost\|recover\|module' "$T/pmd.log" | tail -5)"
tap_is "every one of them is listed, decided by the daemon" \
	"$(sc_pmctl -t list | awk -F'\t' '$7 == 7007 && $11 == "allow"' | wc -l)" 30
pmd_stop
tap_ok "module unloads" pm_unload
tap_done

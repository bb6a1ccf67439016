# portmasterd in module mode, with the scenarios the fallback runs on the
# host (tests/scenarios/scenarios.sh: port reuse over UDP and TCP, answers
# and later rules, scoped answers, reroute_dns and tunnel).
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

SC_MODE=module
SC_SRV4=10.0.0.2
SC_SRV4B=10.0.0.3
SC_WORK=$T
sc_cli() { in_cli "$@"; }
sc_srv_bg() { in_srv "$@" >/dev/null 2>&1 & SERVERS="${SERVERS:-} $!"; }
sc_cli_bg() { in_cli "$@" >/dev/null 2>&1 & SERVERS="${SERVERS:-} $!"; }
sc_pmctl() { in_cli "$PMCTL" -s "$T/ctl.sock" "$@"; }
sc_daemon() {
	pmd_stop
	rm -f "$T/conf/rules.conf"
	printf 'mode = kmod\n%s\n' "$1" >"$T/conf/portmasterd.conf"
	pmd_start
}
. tests/scenarios/scenarios.sh
sc_run_all
tap_is "module mode: no iptables rules of ours at any time (reroutes by the module or DNAT only)" \
	"$(in_cli iptables-nft-save 2>/dev/null | grep -c 'C17\|NFQUEUE')" 0

pmd_stop
tap_ok "module unloads" pm_unload
tap_done

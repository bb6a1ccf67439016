# The scenarios shared with module mode (tests/scenarios/scenarios.sh),
# here in the fallback on this machine's kernel.

t_scenarios() {
	SC_MODE=fallback
	SC_SRV4=10.77.0.2
	SC_SRV4B=10.77.0.3
	SC_WORK=$WORK
	ins ip addr add 10.77.0.3/24 dev pmt1 2>/dev/null
	sc_cli() { inc "$@"; }
	sc_srv_bg() { ip netns exec "$S" "$@" >/dev/null 2>&1 & PIDS+=($!); }
	sc_cli_bg() { ip netns exec "$C" "$@" >/dev/null 2>&1 & PIDS+=($!); }
	sc_pmctl() { "$PMCTL" "$@"; }
	sc_daemon() {
		stop_daemon TERM
		mkdir -p "$CONF"
		rm -f "$CONF/rules.conf"
		printf '%s\n' "$1" >"$CONF/portmasterd.conf"
		start_daemon
	}
	# shellcheck source=../scenarios/scenarios.sh
	. "$TOP/tests/scenarios/scenarios.sh"
	sc_run_all
	stop_daemon TERM
	rm -f "$CONF/portmasterd.conf" "$CONF/rules.conf"
}

#!/bin/bash
# The fallback for real on this machine's kernel, in network namespaces:
# rules as iptables-save shows them (both backends), allowed, blocked and
# dropped flows with curl, socat and ping over IPv4 and IPv6, attribution,
# conntrack reset, SIGKILL and restart, prompts, rule files, and the
# control socket's permissions.  TAP on stdout.
# usage: run.sh [BINDIR]
set -u
[ $# -ge 1 ] && BIN=$1
. "$(dirname "$0")/lib.sh"

reason=$(host_skip_reason)
if [ -n "$reason" ]; then
	tap_skip "fallback host tests" "$reason"
	tap_done
	exit 0
fi
if ! setup_netns || ! start_servers; then
	tap_fail "set up namespaces, veth and servers"
	tap_done
	exit 1
fi

. "$HERE/t_rules.sh"
. "$HERE/t_traffic.sh"
. "$HERE/t_control.sh"
. "$HERE/t_prompt.sh"
. "$HERE/t_crash.sh"
. "$HERE/t_dns.sh"
. "$HERE/t_resolver.sh"
. "$HERE/t_history.sh"
. "$HERE/t_fields.sh"
. "$HERE/t_scenarios.sh"
. "$HERE/t_identity.sh"
. "$HERE/t_scale.sh"
. "$HERE/t_criteria.sh"
. "$HERE/t_preset.sh"

# HOST_TESTS="t_history ..." runs only those (while working on one).
for t in ${HOST_TESTS:-t_rules t_traffic t_control t_clients t_prompt t_crash t_notify_failopen
	t_dns t_resolver t_history t_fields t_scenarios t_identity t_quota t_scale t_criteria t_preset}; do
	"$t"
done

if [ "$TAP_FAILED" != 0 ]; then
	tap_diag "daemon log:"
	tail -n 60 "$WORK/pmd.log" | tap_diag "$(cat)"
fi
tap_done

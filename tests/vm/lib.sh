# Helpers for the guest side of the qemu tests.  Sourced by tests/vm/t-*.sh,
# which run as root inside the test VM (see run-vm.sh), from the top of
# the source tree.  They print TAP through tests/lib/tap.sh.
# shellcheck shell=bash
. tests/lib/tap.sh

PM_KO=${PM_KO:-build/kmod/$(uname -r)/kmod/portmaster.ko}
PM_LISTENER=${PM_LISTENER:-$PWD/build/bin/pm-listener}
T=$(mktemp -d /tmp/pmtest.XXXXXX)
chmod 777 "$T"	# the unprivileged clients write here too

# The module's dependencies come from the kernel's own tree; the module
# itself from the build tree.
pm_load() {
	local m
	for m in $(modinfo -F depends "$PM_KO" | tr , ' '); do
		modprobe "$m" || return 1
	done
	insmod "$PM_KO" "$@"
}

pm_unload() {
	rmmod portmaster
}

pm_loaded() {
	[ -d /sys/module/portmaster ]
}

# Two namespaces joined by a veth pair:
#   cli  veth0  10.0.0.1/24  fd00::1/64
#   srv  veth1  10.0.0.2/24  fd00::2/64
net_setup() {
	ip netns add cli
	ip netns add srv
	ip link add veth0 netns cli type veth peer name veth1 netns srv
	ip -n cli addr add 10.0.0.1/24 dev veth0
	ip -n srv addr add 10.0.0.2/24 dev veth1
	ip -n cli addr add fd00::1/64 dev veth0 nodad
	ip -n srv addr add fd00::2/64 dev veth1 nodad
	ip -n cli link set lo up
	ip -n srv link set lo up
	ip -n cli link set veth0 up
	ip -n srv link set veth1 up
}

net_teardown() {
	ip netns del cli 2>/dev/null
	ip netns del srv 2>/dev/null
}

in_cli() { ip netns exec cli "$@"; }
in_srv() { ip netns exec srv "$@"; }

# A TCP server in srv answering every connection with one line.
srv_tcp() {	# PORT [v6]
	local addr=TCP-LISTEN:$1,fork,reuseaddr
	[ "${2:-}" = v6 ] && addr=TCP6-LISTEN:$1,fork,reuseaddr,ipv6only=1
	# -t 30: the answer may be slow to start on a busy machine; the client's
	# EOF must not close the connection before it is written
	in_srv socat -t 30 "$addr" SYSTEM:'echo hello' >/dev/null 2>&1 &
	SERVERS="${SERVERS:-} $!"
}

# A UDP echo server in srv.
srv_udp() {	# PORT [v6]
	local addr=UDP-LISTEN:$1,fork,reuseaddr
	[ "${2:-}" = v6 ] && addr=UDP6-LISTEN:$1,fork,reuseaddr,ipv6only=1
	in_srv socat "$addr" EXEC:cat >/dev/null 2>&1 &
	SERVERS="${SERVERS:-} $!"
}

wait_port() {	# NS PORT [tcp|udp]
	local i
	for i in $(seq 1 50); do
		ip netns exec "$1" ss -Hln"${3:-t}" "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# The verdict listener in ns cli; its events go to $T/events.  Verdicts
# by hand ("$PM_LISTENER" verdict ID MARK) go through it: the module takes
# them only from the listener's own socket.
listener_start() {	# [pm-listener listen options]
	rm -f "$T/ready"
	: >"$T/events"
	export PM_LISTENER_CONTROL=$T/listener.ctl
	# not through a function: $! must be the listener itself
	ip netns exec cli "$PM_LISTENER" listen --out "$T/events" --ready "$T/ready" \
		--control "$PM_LISTENER_CONTROL" "$@" &
	LISTENER=$!
	local i
	for i in $(seq 1 100); do
		[ -e "$T/ready" ] && return 0
		kill -0 "$LISTENER" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

listener_stop() {	# [signal]
	[ -n "${LISTENER:-}" ] || return 0
	kill "-${1:-TERM}" "$LISTENER" 2>/dev/null
	wait "$LISTENER" 2>/dev/null
	LISTENER=
}

events() {	# [grep pattern]: the events so far
	grep -E "^event.*${1:-}" "$T/events"
}

events_count() {	# [grep pattern]
	events "${1:-}" | wc -l
}

# One field of the last event matching a pattern.
event_field() {	# FIELD [pattern]
	events "${2:-}" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

stat_of() {	# NAME [ns]
	ip netns exec "${2:-cli}" "$PM_LISTENER" stats "$1"
}

# The conntrack mark of the cli-side entry to a destination port.
ct_mark() {	# PROTO DPORT [ipv4|ipv6]
	in_cli conntrack -L -p "$1" --dport "$2" -f "${3:-ipv4}" 2>/dev/null |
		sed -n 's/.* mark=\([0-9]*\).*/\1/p' | head -n 1
}

wait_until() {	# TIMEOUT_S command...: poll until it succeeds
	# TIMEOUT_S's worth of tries every 0.1 s, and at most three times
	# TIMEOUT_S on the clock: a slow guest still gets all its tries, and
	# a try that itself takes seconds cannot stretch the bound to hours.
	local limit=$(($1 * 10)) end=$((SECONDS + 3 * $1)) i
	shift
	for ((i = 0; i < limit && SECONDS < end; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# A task's state letter (R, S, D, Z...), or nothing once it is gone.
# (After the last ')': a command name may itself hold spaces.)
task_state() {	# PID
	sed -n 's/.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null
}

# What the guest's tasks are doing, as TAP comments, for a test that
# found something stuck: each task's state and where in the kernel it
# waits, the kernel stacks of those in D state, and the same from sysrq
# (which also names the kernel's own blocked workers).
stuck_report() {
	local p s
	echo "# stuck: tasks (pid state wchan cmd):"
	for p in /proc/[0-9]*; do
		s=$(task_state "${p#/proc/}")
		[ -n "$s" ] || continue
		printf '#   %s %s %s %s\n' "${p#/proc/}" "$s" "$(cat "$p/wchan" 2>/dev/null)" \
			"$(tr '\0\n' '  ' <"$p/cmdline" 2>/dev/null | cut -c1-80)"
		case $s in D | R) sed 's/^/#     /' "$p/stack" 2>/dev/null ;; esac
	done
	echo w >/proc/sysrq-trigger 2>/dev/null
}

# True once PID has exited (gone, or a zombie waiting to be reaped).
exited() {	# PID
	local s
	s=$(task_state "$1")
	[ -z "$s" ] || [ "$s" = Z ]
}

# Milliseconds since the epoch, for "fails at once, not by timeout".
now_ms() { date +%s%3N; }

cleanup() {
	listener_stop KILL
	pkill -KILL -f "$PM_LISTENER listen" 2>/dev/null
	# shellcheck disable=SC2086
	[ -n "${SERVERS:-}" ] && kill $SERVERS 2>/dev/null
	net_teardown
	rm -rf "$T"
}

# Run as an unprivileged user of our own (no passwd entry needed), so that
# the owner the module reports is not simply root.
TEST_UID=1234
TEST_GID=2345
in_cli_user() {
	ip netns exec cli setpriv --reuid=$TEST_UID --regid=$TEST_GID \
		--clear-groups --inh-caps=-all "$@"
}

# Unprivileged ping uses ICMP datagram sockets, allowed per namespace.
allow_user_ping() {	# NS
	ip netns exec "$1" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
}

# The inodes of a process's sockets.
socket_inodes() {	# PID
	ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p'
}

# A field of a "ss -e" line: the listening socket's inode, say.
ss_inode() {	# NS ss-filter...
	local ns=$1
	shift
	ip netns exec "$ns" ss -Hlne "$@" 2>/dev/null | sed -n 's/.* ino:\([0-9]*\).*/\1/p' | head -n 1
}

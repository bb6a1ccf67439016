# Shared set-up for the host tests: two network namespaces joined by a
# veth pair, a daemon in the client namespace, servers in the other.
# Nothing here touches the root namespace's rules or routes; everything
# is torn down on exit, also on failure (trap).
#
# Client namespace $C: 10.77.0.1/24, fd77::1/64 (portmasterd runs here)
# Server namespace $S: 10.77.0.2/24, fd77::2/64

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$TOP/tests/lib/tap.sh"

BIN=${BIN:-$TOP/build/bin}
PMD=$BIN/portmasterd
PMCTL=$BIN/pmctl
C=pmt-c-$$
S=pmt-s-$$
WORK=$(mktemp -d /tmp/pmhost.XXXXXX)
# Others must reach the socket's directory: the socket's own mode is
# what the permission tests are about.
chmod 755 "$WORK"
SOCK=$WORK/control.sock
CONF=$WORK/etc
DAEMON_PID=
PIDS=()
EXTRA_NS=()	# namespaces a test adds, deleted with ours
export PMCTL_SOCKET=$SOCK

cleanup() {
	set +e
	[ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	# Deleting the namespaces takes their rules, queues and sockets along.
	ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null
	for ns in "${EXTRA_NS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	ip netns del "$C" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	rm -rf "$WORK" "/etc/netns/$C"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

inc() { ip netns exec "$C" "$@"; }
ins() { ip netns exec "$S" "$@"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Why this machine cannot run the tests, or nothing.
host_skip_reason() {
	[ "$(id -u)" = 0 ] || { echo "needs root"; return; }
	[ -x "$PMD" ] || { echo "no $PMD (make daemon)"; return; }
	ip netns add "pmt-probe-$$" 2>/dev/null || { echo "cannot create network namespaces"; return; }
	ip netns del "pmt-probe-$$"
	for t in iptables-nft-restore conntrack curl socat ping python3 setpriv; do
		command -v "$t" >/dev/null || { echo "$t missing (make deps)"; return; }
	done
}

setup_netns() {
	ip netns add "$C" && ip netns add "$S" || return 1
	ip link add pmt0 netns "$C" type veth peer name pmt1 netns "$S" || return 1
	inc ip link set lo up && ins ip link set lo up &&
	inc ip addr add 10.77.0.1/24 dev pmt0 && ins ip addr add 10.77.0.2/24 dev pmt1 &&
	inc ip -6 addr add fd77::1/64 dev pmt0 nodad && ins ip -6 addr add fd77::2/64 dev pmt1 nodad &&
	inc ip link set pmt0 up && ins ip link set pmt1 up
}

# start_server NAME CMD...: runs in the server namespace in the background.
start_server() {
	shift
	ip netns exec "$S" "$@" >/dev/null 2>&1 &
	PIDS+=($!)
}

wait_port() { # ns proto port
	for _ in $(seq 1 50); do
		ip netns exec "$1" ss -Hln"${2:0:1}" "sport = :$3" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

start_servers() {
	mkdir -p "$WORK/www" && echo hello >"$WORK/www/index.html"
	(cd "$WORK/www" && ins python3 -m http.server --bind :: 80 >/dev/null 2>&1) &
	PIDS+=($!)
	# One process answers "ok" on these; 8090 takes the prompt test's burst.
	start_server tcp python3 "$HERE/oksrv.py" 8080 8081 8082 8090
	start_server tcp socat TCP6-LISTEN:8095,fork,reuseaddr,ipv6only=0 EXEC:cat
	start_server udp socat UDP6-RECVFROM:7,fork,ipv6only=0 EXEC:cat
	wait_port "$S" tcp 80 && wait_port "$S" tcp 8080 && wait_port "$S" tcp 8090 && wait_port "$S" udp 7
}

# start_daemon [ARGS...]: portmasterd in the client namespace, log in $WORK/pmd.log
start_daemon() {
	mkdir -p "$CONF"
	# ip netns exec execs the daemon: $! is the daemon's pid.
	# The history and the web UI stay in $WORK and off unless a test asks.
	ip netns exec "$C" "$PMD" --foreground --config "$CONF" --socket "$SOCK" \
		--history "$WORK/history.db" --ui off "$@" \
		>>"$WORK/pmd.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 1 100); do
		[ -S "$SOCK" ] && "$PMCTL" status >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	DAEMON_PID=
	return 1
}

stop_daemon() { # [signal]
	[ -n "$DAEMON_PID" ] || return 0
	kill -"${1:-TERM}" "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

# stat KEY: a counter from pmctl -t status
stat_of() { "$PMCTL" -t status | awk -F'\t' -v k="$1" '$1 == k { print $2 }'; }

# ip(6)tables-save of the three tables Portmaster uses, in a fixed order
# (legacy and nft list tables in different orders), without comments and
# counters.
pm_save() { # tool
	local t
	for t in mangle filter nat; do
		inc "$1" -t $t 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
	done
}

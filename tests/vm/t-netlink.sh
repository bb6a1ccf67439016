# The netlink interface: every command but none needs CAP_NET_ADMIN
# (the statistics and settings tell about the listener too); verdicts come
# only from the listener's own socket; malformed or unknown input gets a
# clear error, never a crash; the settings read back; PM_CMD_RESET makes
# decided connections be decided again.
. tests/vm/lib.sh
trap cleanup EXIT

pm_load || { tap_fail "module loads"; tap_done; exit 1; }
net_setup
srv_tcp 8401
wait_port srv 8401 t

errno_of() { "$@" >/dev/null 2>&1; echo $?; }
user() { in_cli_user "$PM_LISTENER" "$@"; }
# root, but without CAP_NET_ADMIN
nocap() { in_cli setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$PM_LISTENER" "$@"; }

EPERM=1 ENOENT=2 EINVAL=22 ERANGE=34 EOPNOTSUPP=95
tap_is "unprivileged: register is refused (EPERM)" "$(errno_of user register)" $EPERM
tap_is "unprivileged: a verdict is refused (EPERM)" "$(errno_of user verdict 1 1710)" $EPERM
tap_is "unprivileged: settings are refused (EPERM)" "$(errno_of user config timeout=1000)" $EPERM
tap_is "unprivileged: the pending flows are not shown (EPERM)" "$(errno_of user flows)" $EPERM
tap_is "unprivileged: reset is refused (EPERM)" "$(errno_of user reset)" $EPERM
tap_is "unprivileged: statistics are refused (EPERM)" "$(errno_of user stats)" $EPERM
tap_is "unprivileged: settings are refused (EPERM)" "$(errno_of user config)" $EPERM
tap_is "root without CAP_NET_ADMIN: register is refused (EPERM)" "$(errno_of nocap register)" $EPERM
tap_is "root without CAP_NET_ADMIN: a verdict is refused (EPERM)" "$(errno_of nocap verdict 1 1710)" $EPERM
tap_is "with CAP_NET_ADMIN: register works" "$(errno_of in_cli "$PM_LISTENER" register)" 0

# Malformed input: each gets its error, and the module carries on.
raw() { errno_of in_cli "$PM_LISTENER" raw "$@"; }
A_FLOW_ID=1 A_CT_ID=2 A_MARK=14 A_MAX=22 CMD_VERDICT=4 CMD_REGISTER=1
tap_is "an attribute the command does not take: EINVAL" "$(raw $CMD_REGISTER $A_CT_ID=1)" $EINVAL
tap_is "an attribute beyond the family's: EINVAL" "$(raw $CMD_REGISTER $((A_MAX + 1))=1)" $EINVAL
tap_is "a flow id of the wrong size: EINVAL" "$(raw $CMD_VERDICT $A_FLOW_ID=1 $A_MARK=1710)" $EINVAL
tap_is "a verdict without its mark: EINVAL" "$(raw $CMD_VERDICT)" $EINVAL
tap_is "an unknown command: EOPNOTSUPP" "$(raw 99)" $EOPNOTSUPP
tap_is "a verdict with no listener registered: EPERM" \
	"$(errno_of in_cli "$PM_LISTENER" verdict --direct 12345 1710)" $EPERM
tap_is "a timeout below the minimum: ERANGE" "$(errno_of in_cli "$PM_LISTENER" config timeout=5)" $ERANGE
tap_is "a fail policy that does not exist: ERANGE" "$(errno_of in_cli "$PM_LISTENER" config policy=7)" $ERANGE
tap_is "unregister from a socket that is not the listener: ENOENT" \
	"$(raw 2)" $ENOENT

# Settings read back, per namespace.
in_cli "$PM_LISTENER" config policy=closed timeout=1234 pending=77 held=5 >/dev/null
tap_is "settings read back" "$(in_cli "$PM_LISTENER" config | tr '\n' ' ')" \
	"policy=closed timeout=1234 pending=77 held=5 "
tap_is "settings are per namespace" "$(in_srv "$PM_LISTENER" config | head -n 1)" "policy=open"
tap_is "the module parameters give the defaults" \
	"$(cat /sys/module/portmaster/parameters/fail_policy) $(cat /sys/module/portmaster/parameters/timeout_ms)" \
	"open 30000"
in_cli "$PM_LISTENER" config policy=open timeout=30000 pending=1024 held=32 >/dev/null

# The module still works after all that.
listener_start --answer 1710 || tap_fail "listener registers"
tap_is "a mark that is not a verdict: EINVAL" "$(errno_of in_cli "$PM_LISTENER" verdict 1 1705)" $EINVAL
tap_is "a verdict for no pending flow: ENOENT" "$(errno_of in_cli "$PM_LISTENER" verdict 12345 1710)" $ENOENT
tap_is "a verdict from another privileged socket: EPERM" \
	"$(errno_of in_cli "$PM_LISTENER" verdict --direct 12345 1710)" $EPERM
out=$(in_cli socat -t 30 -T 20 - TCP:10.0.0.2:8401,sourceport=40401 </dev/null 2>&1)
tap_is "traffic is decided as before" "$out" hello
tap_is "and marked 1710" "$(ct_mark tcp 8401)" 1710

# Reset: decided connections are decided again by their next packet.
mkfifo "$T/in"
ip netns exec cli socat -u OPEN:"$T/in" TCP:10.0.0.2:8401,sourceport=40402 >/dev/null 2>&1 &
client=$!
exec 3>"$T/in"
wait_until 60 sh -c "ip netns exec cli conntrack -L -p tcp --sport 40402 2>/dev/null | grep -q mark=1710"
before=$(events_count 'sport=40402')
n=$(in_cli "$PM_LISTENER" reset | sed -n 's/^reset=//p')
[ "${n:-0}" -ge 2 ] && tap_pass "reset clears the kept verdicts ($n entries)" || tap_fail "reset clears the kept verdicts" "reset=$n"
m=$(in_cli conntrack -L -p tcp --sport 40401 2>/dev/null | sed -n 's/.* mark=\([0-9]*\).*/\1/p')
tap_is "a reset connection's mark is 0" "$m" 0
echo more >&3
exec 3>&-
wait_until 60 sh -c "[ \$(grep -c 'sport=40402' '$T/events') -gt $before ]" &&
	tap_pass "the next packet of a reset connection asks again" ||
	tap_fail "the next packet of a reset connection asks again" "$(events 'sport=40402')"
kill $client 2>/dev/null
listener_stop
tap_ok "module unloads" pm_unload
tap_done

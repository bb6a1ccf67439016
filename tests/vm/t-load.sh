# portmaster.ko loads and unloads cleanly, registers the generic netlink
# family and hooks every network namespace: those that existed before it
# was loaded and those created after.
. tests/vm/lib.sh
trap cleanup EXIT

# A namespace that exists before the module does.
ip netns add before
ip -n before link set lo up

tap_ok "module loads" pm_load
tap_ok "generic netlink family portmaster is listed by genl ctrl" \
	sh -c 'genl ctrl list | grep -q "^Name: portmaster"'
tap_ok "the family resolves through libnl (stats query)" \
	"$PM_LISTENER" stats packets

ip netns add after
ip -n after link set lo up

# The hooks count every packet of their namespace: traffic in each one
# must show in that namespace's own counters, and only there.
for ns in before after; do
	b=$(ip netns exec $ns "$PM_LISTENER" stats packets)
	ip netns exec $ns ping -c 3 -i 0.2 -W 1 127.0.0.1 >/dev/null
	ip netns exec $ns ping -6 -c 3 -i 0.2 -W 1 ::1 >/dev/null
	a=$(ip netns exec $ns "$PM_LISTENER" stats packets)
	# 3 echo requests + 3 replies, each out and in, for v4 and v6
	if [ -n "$a" ] && [ -n "$b" ] && [ $((a - b)) -ge 24 ]; then
		tap_pass "hooks see IPv4 and IPv6 traffic in netns '$ns' ($((a - b)) packets)"
	else
		tap_fail "hooks see IPv4 and IPv6 traffic in netns '$ns'" "before=$b after=$a"
	fi
done
init_before=$("$PM_LISTENER" stats packets)
ip netns exec after ping -c 2 -i 0.2 -W 1 127.0.0.1 >/dev/null
init_after=$("$PM_LISTENER" stats packets)
tap_is "traffic in another netns is not counted in the initial one" \
	"$init_after" "$init_before"

# nft reads the hooks back from the kernel (NETFILTER_NETLINK_HOOK, 6.12)
if nft list hooks 2>/dev/null | grep -q conntrack; then
	for ns in before after; do
		# ip and ip6, input and output, after conntrack, before NAT
		n=$(ip netns exec $ns nft list hooks 2>/dev/null |
			grep -c -- '-0000000120 pm_hook \[portmaster\]')
		if [ "$n" = 4 ]; then
			tap_pass "nft list hooks shows our 4 hooks at -120 in netns '$ns'"
		else
			tap_fail "nft list hooks shows our 4 hooks in netns '$ns'" \
				"$(ip netns exec $ns nft list hooks 2>&1 | head -40)"
		fi
	done
else
	tap_skip "nft list hooks shows our hooks" "this kernel has no NETFILTER_NETLINK_HOOK"
fi

# With no listener registered the module stays out of the way: the
# namespaces above carried traffic unmarked and nothing was intercepted.
tap_is "no listener: nothing intercepted" "$("$PM_LISTENER" stats intercepted)" 0

tap_ok "module unloads" pm_unload
tap_ok "the family is gone after unload" \
	sh -c '! genl ctrl list | grep -q "^Name: portmaster"'
tap_ok "traffic still flows after unload" ip netns exec after ping -c 1 -W 1 127.0.0.1
tap_ok "module loads again" pm_load
tap_ok "and unloads again" pm_unload
ip netns del before
ip netns del after
tap_done

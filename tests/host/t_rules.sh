# The seed's rules, exactly, with both iptables backends; and gone at exit.

check_save() { # backend family
	local tool=iptables-$1-save want=$HERE/expected/$2.save got
	[ "$2" = v6 ] && tool=ip6tables-$1-save
	got=$(pm_save "$tool")
	if [ "$got" = "$(cat "$want")" ]; then
		tap_pass "$1: $tool shows exactly the seed's rules ($2)"
	else
		tap_fail "$1: $tool shows exactly the seed's rules ($2)" \
			"$(diff <(echo "$got") "$want")"
	fi
}

no_pm_rules() { # backend
	local out
	out=$(pm_save iptables-$1-save; pm_save ip6tables-$1-save)
	if echo "$out" | grep -qE 'C17|0x707|0x6b5|NFQUEUE'; then
		tap_fail "$1: every rule removed at exit" "$out"
	else
		tap_pass "$1: every rule removed at exit"
	fi
}

t_rules() {
	local be
	for be in nft legacy; do
		if ! start_daemon --iptables $be; then
			tap_fail "$be: daemon starts"
			continue
		fi
		grep -q "with iptables-$be" "$WORK/pmd.log" &&
			tap_pass "$be: daemon says which backend it uses" ||
			tap_fail "$be: daemon says which backend it uses"
		check_save $be v4
		check_save $be v6
		inc conntrack -F >/dev/null 2>&1
		tap_is "$be: traffic flows through the fallback" \
			"$(inc curl -sS -m 5 http://10.77.0.2/ 2>&1)$(inc curl -sS -g -m 5 'http://[fd77::2]/' 2>&1)" "hellohello"
		tap_is "$be: and is marked 1710 on conntrack" \
			"$(inc conntrack -L -p tcp --dport 80 2>/dev/null | grep -o 'mark=[0-9]*' | sort -u)" "mark=1710"
		stop_daemon TERM
		no_pm_rules $be
	done
	# A tunnel target adds the three 1717 DNAT rules; without one they
	# are left out.
	mkdir -p "$CONF"
	printf 'tunnel = 10.77.0.9:717\ntunnel6 = [fd77::9]:717\n' >"$CONF/portmasterd.conf"
	if start_daemon --iptables nft; then
		local v4 v6
		v4=$(pm_save iptables-nft-save | grep -c -- '--mark 0x6b5 .*-j DNAT')
		v6=$(pm_save ip6tables-nft-save | grep -c -- '--mark 0x6b5 .*-j DNAT')
		tap_is "tunnel configured: 1717 DNAT rules (v4 tcp, udp, any; v6 likewise)" "$v4 $v6" "3 3"
		pm_save iptables-nft-save | grep -q -- '-p tcp -m mark --mark 0x6b5 -j DNAT --to-destination 10.77.0.9:717' &&
			tap_pass "tunnel rule for tcp points at the configured target" ||
			tap_fail "tunnel rule for tcp points at the configured target" "$(pm_save iptables-nft-save | grep 0x6b5)"
		stop_daemon TERM
	else
		tap_fail "daemon starts with a tunnel configured"
	fi
	rm -f "$CONF/portmasterd.conf"
}

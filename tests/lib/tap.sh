# TAP helpers for shell test suites.  Source it, then:
#   tap_ok "description" command...    passes when the command succeeds
#   tap_is "description" GOT WANT       passes when the strings are equal
#   tap_pass/tap_fail "description" [diagnostics]
#   tap_skip "description" "reason"
#   tap_done                            prints the plan, exits 1 on failure
# Output is TAP 13 on stdout; diagnostics go out as "# " lines.
TAP_N=0
TAP_FAILED=0

tap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

tap_pass() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1"
}

tap_fail() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1"
	shift
	[ $# -gt 0 ] && tap_diag "$@"
	return 0
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

tap_ok() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_pass "$desc"
	else
		tap_fail "$desc" "command: $*" "$out"
	fi
}

tap_is() {
	if [ "$2" = "$3" ]; then
		tap_pass "$1"
	else
		tap_fail "$1" "got:  '$2'" "want: '$3'"
	fi
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ]
}

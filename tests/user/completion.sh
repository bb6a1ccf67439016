#!/bin/bash
# bash completion of pmctl and portmasterd: what a TAB offers.  TAP.
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/tests/lib/tap.sh"
bc=/usr/share/bash-completion/bash_completion
if [ ! -r "$bc" ]; then
	tap_skip "bash completion" "bash-completion is not installed (make deps)"
	tap_done
	exit 0
fi
. "$bc"
. "$here/completion/pmctl"
. "$here/completion/portmasterd"

complete_line() { # words...: what completing the last word offers
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}

fn=_pmctl
tap_is "pmctl <TAB> offers the commands" "$(complete_line pmctl '')" \
	"--json --socket --tsv --version -j -s -t apps default help history list monitor notify pending preset rule status top ui verdict "
tap_is "pmctl ru<TAB>" "$(complete_line pmctl ru)" "rule "
tap_is "pmctl rule <TAB>" "$(complete_line pmctl rule '')" "add del export import list move "
tap_is "pmctl rule add block --remote <TAB> offers the scopes" "$(complete_line pmctl rule add block --remote '')" \
	"internet lan localhost multicast resolver "
tap_is "pmctl rule add <TAB> offers actions" "$(complete_line pmctl rule add '')" "allow ask block drop tunnel "
tap_is "pmctl rule add allow --f<TAB>" "$(complete_line pmctl rule add allow --f)" "--first --for "
tap_is "pmctl rule move 3 <TAB>" "$(complete_line pmctl rule move 3 '')" "--before --first --last "
tap_is "pmctl -j rule add allow --p<TAB>" "$(complete_line pmctl -j rule add allow --p)" "--parent --port --proto "
tap_is "pmctl rule add allow --proto <TAB>" "$(complete_line pmctl rule add allow --proto '')" "icmp tcp udp "
tap_is "pmctl default <TAB>" "$(complete_line pmctl default '')" "allow ask block drop "
tap_is "pmctl verdict 3 <TAB>" "$(complete_line pmctl verdict 3 '')" \
	"--always --for --match --once --until-restart accept allow block drop "
fn=_portmasterd
tap_is "portmasterd --mode <TAB>" "$(complete_line portmasterd --mode '')" "auto kmod nfqueue "
tap_done

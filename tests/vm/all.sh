# Run several guest tests in one boot (for the debug kernel, whose boot is
# slow), one after the other, their results prefixed with the test's name.
# A test that stops before its plan counts as a failure.
# usage (in the guest): bash tests/vm/all.sh t-NAME...
n=1
fails=0
# The fault tests are about races: a guest that came up on one CPU (a
# kernel that cannot find the others) would pass them without meeting one.
cpus=$(nproc)
if [ "${cpus:-0}" -ge 2 ]; then
	echo "ok 1 - the guest runs on $cpus CPUs (at least 2)"
else
	echo "not ok 1 - the guest runs on $cpus CPUs (at least 2)"
	fails=1
fi
for t in "$@"; do
	out=$(mktemp)
	bash "tests/vm/$t.sh" >"$out" 2>&1
	plan= count=0
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
			n=$((n + 1))
			count=$((count + 1))
			[ -n "${BASH_REMATCH[1]}" ] && fails=$((fails + 1))
			echo "${BASH_REMATCH[1]}ok $n - $t: ${BASH_REMATCH[2]}"
		elif [[ $line =~ ^1\.\.([0-9]+)$ ]]; then
			plan=${BASH_REMATCH[1]}
		else
			echo "$line"
		fi
	done <"$out"
	rm -f "$out"
	if [ "$plan" != "$count" ]; then
		n=$((n + 1))
		fails=$((fails + 1))
		echo "not ok $n - $t: ran to its end (plan '$plan', $count results)"
	fi
done
echo "1..$n"
[ $fails = 0 ]

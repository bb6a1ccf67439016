# Guest side of the KUnit run, in the debug kernel: load the suites (they
# run on load), print every suite's KTAP, and let kmemleak look for leaks.
echo "=== cpus: $(nproc)"
ko=build/kmod/$(uname -r)/tests/kunit/portmaster_kunit.ko
insmod "$ko" || { echo "insmod $ko failed"; exit 1; }
for d in /sys/kernel/debug/kunit/portmaster_*/; do
	echo "=== $(basename "$d")"
	cat "$d/results"
done
rmmod portmaster_kunit
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak
	leaks=$(grep -c '^unreferenced object' /sys/kernel/debug/kmemleak)
	echo "=== kmemleak: $leaks"
	cat /sys/kernel/debug/kmemleak | head -60
fi

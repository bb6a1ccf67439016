#!/bin/busybox sh
# init of the test guest: mount the host's root read-only over 9p with a
# tmpfs overlay, chroot into it and run the command that run-vm.sh left in
# the shared directory.  Reports the status through isa-debug-exit.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

for m in $(cat /mods/order); do
	insmod "/mods/$m" || echo "init: insmod $m failed"
done

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose root /lower ||
	{ echo "init: cannot mount the host root"; poweroff -f; }
mount -t tmpfs -o mode=755 upper /upper
mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot ||
	{ echo "init: cannot mount the overlay"; poweroff -f; }

r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sys $r/sys
mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts devpts $r/dev/pts
mount -t tmpfs tmpfs $r/dev/shm
mount -t tmpfs -o mode=755 run $r/run
# /tmp stays the overlay's: the checkout under test may live there
mount -t debugfs debugfs $r/sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup 2>/dev/null
mkdir -p $r/pmshare
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 pmshare $r/pmshare ||
	{ echo "init: cannot mount the share"; poweroff -f; }

# Module autoloading calls this root's /sbin/modprobe: forward it.
echo /sbin/modprobe >/proc/sys/kernel/modprobe
hostname pmtest
chroot $r /bin/ip link set lo up

# Netfilter's hooks are behind static keys, switched by patching kernel
# text (int3, then the new bytes) when a hook point goes from none to
# some.  Software emulation with several vCPUs does not always see such
# a patch in time on the other vCPU (an "Oops: int3" in __ip_local_out,
# with the patch already done, under iperf3 while the tests load and
# unload the module): conntrack switched on in the initial namespace,
# by a rule on a hook local traffic never passes, keeps every key the
# tests touch on, so that no test patches text under traffic.
chroot $r /usr/sbin/nft -f - <<'EOF' || echo "init: cannot keep the netfilter hooks on"
table inet pm_guest_keys {
	chain keep { type filter hook forward priority 0; ct state new counter; }
}
EOF

# nf_ct_get_id() seeds its hash once, and then a worker switches off the
# static key that guards the seeding, patching text while other CPUs may
# run through it (an "Oops: int3" in nf_ct_get_id on 6.12 in t-soak).
# Asking conntrack for an entry's id here does that before any test.
chroot $r /bin/ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1
chroot $r /usr/sbin/conntrack -L -o id >/dev/null 2>&1

# The same for the key that timestamps received packets (an "Oops: int3"
# in netif_rx_internal on 6.12 during t-load): any socket that asks for
# timestamps (ping does) switches it on, and off again when it closes.
# One socket that asks, kept open while the guest lives, keeps it on.
if [ "$(grep -c '^processor' /proc/cpuinfo)" -gt 1 ]; then
	chroot $r /usr/bin/python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 29, 1)  # SO_TIMESTAMP: not in the socket module
time.sleep(1e9)' </dev/null >/dev/null 2>&1 &
fi

# The harness's self-test: a boot that stalls before the command starts.
grep -q pm.stall_boot /proc/cmdline && while :; do sleep 1000; done

# run-vm.sh retries a boot that fails before this line, never after it
echo "pm-guest: command starts" >/dev/console
chroot $r /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TERM=dumb /bin/sh /pmshare/guest.sh >$r/pmshare/output 2>&1 </dev/null
st=$?
# A debug kernel looks for leaks once the command is done.
if [ -w $r/sys/kernel/debug/kmemleak ]; then
	echo scan >$r/sys/kernel/debug/kmemleak
	echo scan >$r/sys/kernel/debug/kmemleak
	cat $r/sys/kernel/debug/kmemleak >$r/pmshare/kmemleak
fi
echo "$st" >$r/pmshare/status
dmesg >$r/pmshare/dmesg
sync
umount $r/pmshare
[ "$st" -gt 255 ] && st=255
printf "\\$(printf %o "$st")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f

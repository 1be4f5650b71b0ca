// The guest's /init: mount, load modules, bring up the network, load the driver
// when the image holds one (a guest saved as a snapshot is booted without it:
// the host loads it after the save or restore), start dropbear, then announce
// readiness on the console.
import { driverUnderTest, guestPaths } from '../../target/index.js';

export const READY_MARKER = 'dmafault: ready';
export const DRIVER_MARKER = /dmafault: driver (loaded|deferred|failed .*)/;

const { moduleFile } = guestPaths(driverUnderTest);

export function initScript(): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /dev/pts /run /tmp && mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
for m in $(cat /etc/dmafault/modules); do modprobe "$m" || echo "dmafault: modprobe $m failed"; done
# Swap on zram, so MADV_PAGEOUT really pages anonymous memory out; a few huge pages.
if [ -e /sys/block/zram0 ]; then
	echo 64M > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0
fi
echo 4 > /proc/sys/vm/nr_hugepages
# A block-backed filesystem: its page cache is written back and dropped like a disk's.
if [ -b /dev/ram0 ]; then
	mkdir -p /mnt/disk && mke2fs -q -b 4096 /dev/ram0 >/dev/null 2>&1 && mount -t ext4 /dev/ram0 /mnt/disk
fi
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up
if [ ! -e ${moduleFile} ]; then
	echo "dmafault: driver deferred"
elif insmod ${moduleFile} $(cat /etc/dmafault/driver-params); then
	echo "dmafault: driver loaded"
else
	echo "dmafault: driver failed $?"
fi
dropbear -s -r /etc/dropbear/host_key -p 22 -P /run/dropbear.pid
echo "${READY_MARKER}"
while :; do sleep 3600; done
`;
}

// Migration sends a page of zeros as a flag, not as 4 KiB. A freshly booted
// guest's free memory is not zero: it holds the unpacked initramfs archive,
// freed init sections and dropped caches. Before the save, the guest drops
// its caches and fills its free memory with zeros once (a file in a tmpfs
// of its own, deleted again), so that the snapshot, and each restore, carries
// only the memory in use. A margin stays free so that nothing is reclaimed.
const MOUNT = '/run/dmafault-zero';
const MARGIN_MIB = 32;

export const zeroFreeMemory = [
  'sync',
  'echo 3 > /proc/sys/vm/drop_caches',
  `mkdir -p ${MOUNT} && mount -t tmpfs -o size=100% zero ${MOUNT} || exit 1`,
  `free=$(awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo)`,
  `n=$((free - ${MARGIN_MIB}))`,
  // Bounded (busybox timeout; the fill is an optimisation: a cut-short one
  // only leaves more for the migration to send): a save must not hang on it.
  `[ "$n" -gt 0 ] && timeout 20 dd if=/dev/zero of=${MOUNT}/zero bs=1M count=$n 2>/dev/null`,
  `rm -f ${MOUNT}/zero; umount ${MOUNT}; rmdir ${MOUNT}`,
].join('\n');

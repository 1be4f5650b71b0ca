// QEMU's edu device has no migration state: a restored guest finds its PCI
// configuration zeroed (no BARs, no bus mastering, no MSI). The guest keeps a
// copy of the configuration of each function of the device under test, taken
// before the save, and writes it back after the restore: the header past the
// command and status registers first (BARs, MSI), the command register last,
// so that no BAR decodes at address 0 in between.
import { driverUnderTest } from '../../target/index.js';

const { pci } = driverUnderTest;
const SAVED = '/dmafault-pci';

export const savePciConfig = [
  `mkdir -p ${SAVED}`,
  `for d in /sys/bus/pci/devices/*; do`,
  `  if [ "$(cat $d/vendor)" = ${pci.vendor} ] && [ "$(cat $d/device)" = ${pci.device} ]; then cat $d/config > ${SAVED}/\${d##*/} || exit 1; fi`,
  `done`,
  `ls ${SAVED}`,
].join('\n');

export const restorePciConfig = [
  `for f in ${SAVED}/*; do`,
  `  [ -e "$f" ] || continue`,
  `  c=/sys/bus/pci/devices/\${f##*/}/config`,
  `  dd if=$f of=$c bs=4 skip=2 seek=2 count=62 conv=notrunc 2>/dev/null || exit 1`,
  `  dd if=$f of=$c bs=2 skip=2 seek=2 count=1 conv=notrunc 2>/dev/null || exit 1`,
  `done`,
].join('\n');

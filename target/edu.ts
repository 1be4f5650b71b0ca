// The reference driver, edu_dma (driver/), on QEMU's edu device.
import type { DriverUnderTest } from './driver-under-test.js';

export const edu: DriverUnderTest = {
  name: 'edu',
  module: 'edu_dma',
  sourceDir: 'driver',
  uapiHeader: 'driver/uapi/edu_dma.h',
  qemuDevice: ['-device', 'edu'],
  pci: { vendor: '0x1234', device: '0x11e8', address: '0000:00:01.0' },
  deviceNode: '/dev/edu-dma0',
  deviceNodes: /^\/dev\/edu-dma\d+$/,
};

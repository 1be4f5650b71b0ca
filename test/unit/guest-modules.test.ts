import { describe, expect, it } from 'vitest';
import { closure, parseModulesDep } from '../../vm/image/guest-modules.js';

const dep = `kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko
`;

describe('module closure', () => {
  const deps = parseModulesDep(dep);

  it('pulls in every dependency once', () => {
    const { paths, missing } = closure(deps, ['virtio_pci']);
    expect(missing).toEqual([]);
    expect(paths.sort()).toEqual([
      'kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/virtio/virtio_pci.ko',
      'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
      'kernel/drivers/virtio/virtio_ring.ko',
    ]);
  });

  it('matches module names with dashes and underscores alike', () => {
    expect(closure(deps, ['virtio_rng']).paths).toContain('kernel/drivers/char/hw_random/virtio-rng.ko');
  });

  it('reports modules the kernel does not have', () => {
    expect(closure(deps, ['zram']).missing).toEqual(['zram']);
  });
});

// The kmemleak oracle judges only what the driver under test allocated, also
// once its module is unloaded (frames then print as bare module-area addresses).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allocatedBy, parseKmemleak } from '../../properties/oracles/kmemleak.js';
import { findingKey, sameFinding } from '../../reproduce/script/verify.js';

const debugfs = `unreferenced object 0xffff888004e5c700 (size 64):
  comm "dmafault-agent", pid 97, jiffies 4294912870 (age 8.120s)
  hex dump (first 32 bytes):
    00 00 c4 04 00 00 00 00 00 10 00 00 00 00 00 00  ................
  backtrace:
    [<00000000b3c1d0e4>] __kmem_cache_alloc_node+0x1c5/0x310
    [<000000004c7f2a19>] dmafi_kvzalloc+0x17/0x30 [edu_dma]
    [<0000000051c0f3b2>] __x64_sys_ioctl+0x12e/0x1a0
unreferenced object 0xffff888004f3a000 (size 512):
  comm "swapper/0", pid 1, jiffies 4294892871 (age 28.3s)
  backtrace:
    [<00000000b3c1d0e4>] __kmem_cache_alloc_node+0x1c5/0x310
    [<00000000813e5fa2>] acpi_os_allocate+0x2a/0x40
unreferenced object 0xffff888004f3b000 (size 128):
  comm "rmmod", pid 140, jiffies 4294992871 (age 9.0s)
  backtrace:
    [<00000000b3c1d0e4>] __kmem_cache_alloc_node+0x1c5/0x310
    [<00000000d4e2b590>] 0xffffffffa0012345
`;

describe('kmemleak oracle', () => {
  it('splits the report into objects', () => {
    const objects = parseKmemleak(debugfs);
    expect(objects.map((o) => o.header)).toEqual([
      'unreferenced object 0xffff888004e5c700 (size 64):',
      'unreferenced object 0xffff888004f3a000 (size 512):',
      'unreferenced object 0xffff888004f3b000 (size 128):',
    ]);
  });

  it('keeps the driver\'s objects, by module name or by an unloaded module\'s bare address', () => {
    const mine = parseKmemleak(debugfs).filter((o) => allocatedBy(o, 'edu_dma'));
    expect(mine.map((o) => o.header)).toEqual(['unreferenced object 0xffff888004e5c700 (size 64):', 'unreferenced object 0xffff888004f3b000 (size 128):']);
  });

  it('reads the console form too (timestamps and the kmemleak: prefix)', () => {
    const console = readFileSync(new URL('../fixtures/console/kmemleak.log', import.meta.url), 'utf8');
    const objects = parseKmemleak(console);
    expect(objects).toHaveLength(2);
    expect(objects.every((o) => allocatedBy(o, 'edu_dma'))).toBe(true);
    expect(objects.some((o) => allocatedBy(o, 'other_mod'))).toBe(false);
  });
});

describe('reproducer verdicts on kernel reports', () => {
  it('compares findings without offsets or addresses', () => {
    expect(findingKey('guest kernel: BUG: KASAN: use-after-free in edu_irq+0x89/0xa0 [edu_dma]')).toBe('BUG: KASAN: use-after-free in edu_irq [edu_dma]');
    expect(sameFinding('guest kernel: BUG: KASAN: use-after-free in edu_irq+0x89/0xa0 [edu_dma]\n--- console ---', 'BUG: KASAN: use-after-free in edu_irq+0x80/0xa0 [edu_dma]')).toBe(true);
    expect(sameFinding('guest kernel: BUG: KASAN: use-after-free in edu_irq+0x89/0xa0 [edu_dma]', 'WARNING: possible circular locking dependency detected')).toBe(false);
  });
});

// Bring your own kernel: an image, its build or headers directory and its
// installed modules, given as options, boot and run the driver like the default.
// (Debian's own files stand in for a kernel developer's build, as a bzImage.)
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Guest } from '../../properties/guest.js';
import { setup } from '../../vm/setup.js';
import { environment } from './helpers.js';

it('boots a kernel given by --kernel, --kernel-build and --kernel-modules', async () => {
  const debian = (await environment()).kernel;
  const root = debian.modulesRoot!;
  const env = await setup({
    kernel: join(root, 'boot', `vmlinuz-${debian.release}`),
    kernelBuild: debian.buildDir,
    kernelModules: root,
  });
  expect(env.kernel.origin).toBe('custom');
  expect(env.kernel.release).toBe(debian.release);
  const machine = await env.boot('direct', await env.driver());
  try {
    const guest = new Guest(machine);
    expect((await machine.exec('uname -r')).stdout.trim()).toBe(debian.release);
    const fd = await guest.must('open', '/dev/edu-dma0', 'rw');
    const b = await guest.alloc(8192);
    await guest.fill(b, 0, 3100, 9);
    expect((await guest.call('xfer', fd, b, 100, 3000, 0, 1)).ret).toBe(0);
    expect((await guest.call('xfer', fd, b, 4100, 3000, 0, 2)).ret).toBe(0);
    expect(await guest.check(b, 4100, 3000, 9, 100)).toBe(-1);
  } finally {
    await machine.close();
  }
});

// The per-VM part of the initramfs: fresh SSH keys and, unless the host loads
// it later, the driver under test and its parameters, appended to the shared base archive (the kernel unpacks concatenated archives).
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { packCpio } from './cpio.js';
import { driverUnderTest, guestPaths } from '../../target/index.js';

export interface OverlayInput {
  readonly hostKey: string;
  readonly authorizedKey: string;
  // null: the guest boots without it (init prints "driver deferred").
  readonly driver: { readonly ko: string; readonly params: string } | null;
}

export async function buildInitrd(vmDir: string, base: string, input: OverlayInput): Promise<string> {
  const stage = join(vmDir, 'overlay');
  await mkdir(join(stage, 'etc/dropbear'), { recursive: true });
  await mkdir(join(stage, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await mkdir(join(stage, 'lib/dmafault'), { recursive: true });
  await mkdir(join(stage, 'etc/dmafault'), { recursive: true });
  await copyFile(input.hostKey, join(stage, 'etc/dropbear/host_key'));
  await writeFile(join(stage, 'root/.ssh/authorized_keys'), `${input.authorizedKey}\n`, { mode: 0o600 });
  if (input.driver) {
    await copyFile(input.driver.ko, join(stage, guestPaths(driverUnderTest).moduleFile.slice(1)));
    await writeFile(join(stage, 'etc/dmafault/driver-params'), `${input.driver.params}\n`);
  }
  const overlay = join(vmDir, 'overlay.cpio');
  await packCpio(stage, overlay);
  const initrd = join(vmDir, 'initrd.cpio');
  const out = createWriteStream(initrd);
  await pipeline(createReadStream(base), out, { end: false });
  await pipeline(createReadStream(overlay), out);
  return initrd;
}

// The per-VM part of the initramfs: fresh SSH keys and the driver under test,
// appended to the shared base archive (the kernel unpacks concatenated archives).
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { packCpio } from './cpio.js';

export interface OverlayInput {
  readonly hostKey: string;
  readonly authorizedKey: string;
  readonly driverKo: string;
  readonly driverParams: string;
}

export async function buildInitrd(vmDir: string, base: string, input: OverlayInput): Promise<string> {
  const stage = join(vmDir, 'overlay');
  await mkdir(join(stage, 'etc/dropbear'), { recursive: true });
  await mkdir(join(stage, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await mkdir(join(stage, 'lib/dmafault'), { recursive: true });
  await mkdir(join(stage, 'etc/dmafault'), { recursive: true });
  await copyFile(input.hostKey, join(stage, 'etc/dropbear/host_key'));
  await writeFile(join(stage, 'root/.ssh/authorized_keys'), `${input.authorizedKey}\n`, { mode: 0o600 });
  await copyFile(input.driverKo, join(stage, 'lib/dmafault/edu_dma.ko'));
  await writeFile(join(stage, 'etc/dmafault/driver-params'), `${input.driverParams}\n`);
  const overlay = join(vmDir, 'overlay.cpio');
  await packCpio(stage, overlay);
  const initrd = join(vmDir, 'initrd.cpio');
  const out = createWriteStream(initrd);
  await pipeline(createReadStream(base), out, { end: false });
  await pipeline(createReadStream(overlay), out);
  return initrd;
}

// Turns an xz-compressed bzImage into the ELF vmlinux inside it. QEMU boots that
// ELF through its PVH entry point and skips the in-guest decompression, which
// costs seconds under TCG.
import { open, readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { ProvisionError } from '../errors.js';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

export async function extractVmlinux(bzImage: string, out: string): Promise<void> {
  const data = await readFile(bzImage);
  const at = data.indexOf(XZ_MAGIC);
  if (at < 0) throw new ProvisionError(`${bzImage}: no xz payload found; expected a Debian (xz) bzImage`);
  await execa('xz', ['-dc', '--single-stream'], { input: data.subarray(at), stdout: { file: out } });
  await assertElf(out);
}

export async function assertElf(path: string): Promise<void> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await file.read(head, 0, 4, 0);
    if (!head.equals(ELF_MAGIC)) throw new ProvisionError(`${path}: not an ELF file after extraction`);
  } finally {
    await file.close();
  }
}

// Packs a directory into a newc cpio archive owned by root, without being root.
import { execa } from 'execa';
import { ProvisionError } from '../errors.js';

export async function packCpio(dir: string, out: string): Promise<void> {
  const result = await execa('sh', ['-c', 'find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet > "$1"', 'pack', out], {
    cwd: dir,
    reject: false,
  });
  if (result.failed) throw new ProvisionError(`cpio failed for ${dir}: ${result.stderr}`);
}

// kmemleak as an oracle (debug flavour): scan, and judge only the unreferenced
// objects the driver under test allocated: a backtrace frame in the module
// ("[edu_dma]"), or a bare module-area address once the module is unloaded
// (the debug kernel has every other driver built in, so nothing else lives there).
import type { Machine } from '../../vm/machine.js';
import { MODULE } from '../guest.js';

export const KMEMLEAK = '/sys/kernel/debug/kmemleak';

export interface LeakedObject {
  readonly header: string;
  readonly lines: readonly string[];
}

// The `unreferenced object` blocks of /sys/kernel/debug/kmemleak (or of the console, prefix stripped).
export function parseKmemleak(text: string): LeakedObject[] {
  const objects: { header: string; lines: string[] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/^\[\s*[\d.]+\]\s*/, '').replace(/^kmemleak: /, '');
    if (/^unreferenced object 0x[\da-f]+ \(size \d+\):/.test(line)) objects.push({ header: line, lines: [line] });
    else if (objects.length && /^\s/.test(line)) objects[objects.length - 1]!.lines.push(line);
  }
  return objects;
}

// Whether the object was allocated from the module `name`.
export function allocatedBy(object: LeakedObject, name: string): boolean {
  return object.lines.some((line) => line.includes(`[${name}]`) || /\] 0xffffffff[a-f][\da-f]{7}$/.test(line.trim()));
}

// Scans twice (kmemleak reports an object only when its contents did not change
// since the previous scan, and only once it is 5 s old: the guest sleeps in
// between, which under icount costs no wall time), returns the module's leaked
// objects and clears the list, so that each is reported once. Nothing on a
// kernel without kmemleak. Measured: the first scan alone reported nothing.
export async function scanKmemleak(machine: Machine, module = MODULE): Promise<LeakedObject[]> {
  const { code, stdout } = await machine.exec(`test -w ${KMEMLEAK} || exit 3; echo scan > ${KMEMLEAK}; sleep 6; echo scan > ${KMEMLEAK}; cat ${KMEMLEAK}; echo clear > ${KMEMLEAK}`);
  if (code === 3) return [];
  return parseKmemleak(stdout).filter((object) => allocatedBy(object, module));
}

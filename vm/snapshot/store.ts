// Guest snapshots in the cache: one directory per key, holding QEMU's
// migration stream of a guest saved right after its agent answered, and the
// SSH keys that guest trusts. Root-only (0700 directories, 0600 files): the
// stream holds guest memory and the client's private key.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Bump when what a snapshot holds, or how it is restored, changes (3: free
// memory zeroed before the save).
const FORMAT = 3;
// Snapshots kept per cache: the newest used; each holds a guest's used memory.
const KEPT = 24;

export interface SnapshotKeys {
  readonly clientPrivate: string;
  readonly clientPublic: string;
  // The guest's host key (public half, SSH wire format), pinned on connect.
  readonly hostPublic: Buffer;
}

export interface Snapshot {
  readonly key: string;
  readonly dir: string;
  // The migration stream, for -incoming.
  readonly state: string;
  readonly keys: SnapshotKeys;
}

interface Meta {
  readonly format: number;
  readonly key: string;
  readonly clientPrivate: string;
  readonly clientPublic: string;
  readonly hostPublic: string;
}

// The key of a snapshot: everything the saved guest depends on (kernel build,
// image, QEMU, command line; not the driver, which a snapshot does not hold),
// as stable JSON, hashed.
export function snapshotKey(parts: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(JSON.stringify({ format: FORMAT, ...parts })).digest('hex').slice(0, 24);
}

function root(cache: string): string {
  return join(cache, 'snapshots');
}

export async function findSnapshot(cache: string, key: string): Promise<Snapshot | undefined> {
  const dir = join(root(cache), key);
  let meta: Meta;
  try {
    meta = JSON.parse(await readFile(join(dir, 'snapshot.json'), 'utf8')) as Meta;
  } catch {
    return undefined;
  }
  if (meta.format !== FORMAT || meta.key !== key) return undefined;
  const now = new Date();
  await utimes(join(dir, 'snapshot.json'), now, now).catch(() => undefined);
  return { key, dir, state: join(dir, 'state'), keys: { clientPrivate: meta.clientPrivate, clientPublic: meta.clientPublic, hostPublic: Buffer.from(meta.hostPublic, 'base64') } };
}

// A directory to save a snapshot into; commit() makes it the key's snapshot
// unless another guest committed one first, abandon() removes it.
export async function newSnapshot(cache: string, key: string): Promise<{ dir: string; state: string; commit: (keys: SnapshotKeys) => Promise<void>; abandon: () => Promise<void> }> {
  await mkdir(root(cache), { recursive: true, mode: 0o700 });
  // mkdtemp makes it 0700.
  const dir = await mkdtemp(join(root(cache), `${key}.new-`));
  // Created here so that QEMU's `cat >` keeps its mode.
  await writeFile(join(dir, 'state'), '', { mode: 0o600 });
  const abandon = () => rm(dir, { recursive: true, force: true });
  const commit = async (keys: SnapshotKeys) => {
    const meta: Meta = { format: FORMAT, key, clientPrivate: keys.clientPrivate, clientPublic: keys.clientPublic, hostPublic: keys.hostPublic.toString('base64') };
    await writeFile(join(dir, 'snapshot.json'), JSON.stringify(meta), { mode: 0o600 });
    try {
      await rename(dir, join(root(cache), key));
    } catch {
      await abandon();
    }
    await prune(cache);
  };
  return { dir, state: join(dir, 'state'), commit, abandon };
}

// Removes a snapshot that failed to restore, so the next boot saves a new one.
export async function dropSnapshot(snapshot: Snapshot): Promise<void> {
  await rm(snapshot.dir, { recursive: true, force: true });
}

// Keeps the newest used snapshots, and removes saves that a killed run left
// half done (older than an hour).
async function prune(cache: string): Promise<void> {
  const dir = root(cache);
  const all = await readdir(dir);
  const stale = Date.now() - 3_600_000;
  await Promise.all(all.filter((n) => n.includes('.new-')).map(async (n) => {
    if (((await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? Infinity) < stale) await rm(join(dir, n), { recursive: true, force: true });
  }));
  const names = all.filter((n) => /^[0-9a-f]{24}$/.test(n));
  const dated = await Promise.all(names.map(async (name) => ({ name, used: (await stat(join(dir, name, 'snapshot.json')).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.used - a.used);
  await Promise.all(dated.slice(KEPT).map((d) => rm(join(dir, d.name), { recursive: true, force: true })));
}

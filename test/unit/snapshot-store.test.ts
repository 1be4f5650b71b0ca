// The snapshot store: keys, the first save of a key wins, a snapshot of
// another format is not used, and pruning keeps the newest used ones.
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropSnapshot, findSnapshot, newSnapshot, snapshotKey } from '../../vm/snapshot/store.js';

let cache: string;
const keys = { clientPrivate: 'private', clientPublic: 'public', hostPublic: Buffer.from([1, 2, 3]) };

beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), 'dmafault-snapshots-'));
});
afterEach(() => rm(cache, { recursive: true, force: true }));

async function save(key: string, state: string): Promise<void> {
  const target = await newSnapshot(cache, key);
  await writeFile(target.state, state);
  await target.commit(keys);
}

describe('snapshot store', () => {
  it('keys depend on every part, not on their order', () => {
    const parts = { kernel: 'k1', driver: 'd1', params: '' };
    expect(snapshotKey(parts)).toMatch(/^[0-9a-f]{24}$/);
    expect(snapshotKey(parts)).toBe(snapshotKey({ ...parts }));
    expect(snapshotKey({ ...parts, driver: 'd2' })).not.toBe(snapshotKey(parts));
    expect(snapshotKey({ ...parts, params: 'x=1' })).not.toBe(snapshotKey(parts));
  });

  it('finds a committed snapshot with its keys, root-only; the first commit of a key wins', async () => {
    const key = snapshotKey({ a: 1 });
    expect(await findSnapshot(cache, key)).toBeUndefined();
    const first = await newSnapshot(cache, key);
    const second = await newSnapshot(cache, key);
    await writeFile(first.state, 'first');
    await writeFile(second.state, 'second');
    await first.commit(keys);
    await second.commit(keys);
    const found = (await findSnapshot(cache, key))!;
    expect(found.keys).toEqual(keys);
    expect((await stat(found.dir)).mode & 0o777).toBe(0o700);
    expect((await stat(found.state)).mode & 0o777).toBe(0o600);
    expect((await stat(join(found.dir, 'snapshot.json'))).mode & 0o777).toBe(0o600);
    expect(await readdir(join(cache, 'snapshots'))).toEqual([key]);
    await dropSnapshot(found);
    expect(await findSnapshot(cache, key)).toBeUndefined();
  });

  it('ignores a snapshot saved in another format or under another key', async () => {
    const key = snapshotKey({ a: 2 });
    await save(key, 's');
    const meta = join(cache, 'snapshots', key, 'snapshot.json');
    await writeFile(meta, JSON.stringify({ format: 0, key, clientPrivate: '', clientPublic: '', hostPublic: '' }));
    expect(await findSnapshot(cache, key)).toBeUndefined();
    await writeFile(meta, '{not json');
    expect(await findSnapshot(cache, key)).toBeUndefined();
  });

  it('keeps the 24 newest used snapshots and drops saves abandoned over an hour ago', async () => {
    const all = Array.from({ length: 24 }, (_, i) => snapshotKey({ i }));
    for (const [i, key] of all.entries()) {
      await save(key, 's');
      const at = new Date(Date.now() - (100 - i) * 1000);
      await utimes(join(cache, 'snapshots', key, 'snapshot.json'), at, at);
    }
    await findSnapshot(cache, all[0]!);
    const old = join(cache, 'snapshots', `${all[0]}.new-1-1`);
    const recent = join(cache, 'snapshots', `${all[1]}.new-1-2`);
    await mkdir(old);
    await mkdir(recent);
    const hourAgo = new Date(Date.now() - 3_700_000);
    await utimes(old, hourAgo, hourAgo);
    await save(snapshotKey({ next: 1 }), 's');
    await save(snapshotKey({ next: 2 }), 's');
    const left = await readdir(join(cache, 'snapshots'));
    expect(left).toHaveLength(25);
    expect(left).toContain(all[0]);
    expect(left).toContain(snapshotKey({ next: 2 }));
    expect(left).not.toContain(`${all[0]}.new-1-1`);
    expect(left).not.toContain(all[1]);
    expect(left).not.toContain(all[2]);
    expect(left).toContain(`${all[1]}.new-1-2`);
  });
});

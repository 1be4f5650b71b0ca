// Runs work items on at most `jobs` lanes at once. Each lane holds one resource
// (a guest) made for an item's key (its profile) and keeps it for the next item
// with that key; a lane out of work for its key first takes a key no lane holds,
// so that every guest serves as many items as it can and few guests boot.
export interface LaneHooks<T, S, R> {
  key(item: T): string;
  // The resource for a key (a guest session); lanes are numbered from 1.
  open(key: string, lane: number): S;
  close(resource: S): Promise<void>;
  run(item: T, resource: S, lane: number): Promise<R>;
}

// Results come back in the items' order. When an item throws, the lanes take no
// new items, every resource is closed, and the first error is thrown.
export async function runLanes<T, S, R>(items: readonly T[], jobs: number, hooks: LaneHooks<T, S, R>): Promise<R[]> {
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`lanes: jobs must be a positive integer, got ${jobs}`);
  const results: R[] = new Array(items.length);
  const pending = items.map((_, i) => i);
  const held = new Map<number, string>();
  let failed = false;

  const take = (lane: number): number | undefined => {
    const mine = held.get(lane);
    const others = new Set([...held].filter(([l]) => l !== lane).map(([, k]) => k));
    const at =
      [(i: number) => hooks.key(items[i]!) === mine, (i: number) => !others.has(hooks.key(items[i]!)), () => true]
        .map((wanted) => pending.findIndex(wanted))
        .find((found) => found >= 0) ?? -1;
    return at < 0 ? undefined : pending.splice(at, 1)[0];
  };

  const lane = async (n: number) => {
    let resource: { key: string; value: S } | undefined;
    try {
      for (let i = take(n); i !== undefined && !failed; i = take(n)) {
        const key = hooks.key(items[i]!);
        if (resource?.key !== key) {
          if (resource) await hooks.close(resource.value);
          resource = undefined;
          resource = { key, value: hooks.open(key, n) };
          held.set(n, key);
        }
        results[i] = await hooks.run(items[i]!, resource.value, n);
      }
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      held.delete(n);
      if (resource) await hooks.close(resource.value);
    }
  };

  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(jobs, items.length) }, (_, i) => lane(i + 1)));
  const error = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (error) throw error.reason;
  return results;
}

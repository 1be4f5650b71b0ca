// `dmafault run --docker [--shards N] [--docker-host URL]...`: the suite in
// containers of the toolchain image, N slices spread round-robin over the
// engines, each `dmafault run --shard I/N --json` inside; failure files come
// back to the host, and the slices merge into one summary and one audit.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parsePart, type ShardPart } from '../suite/parts.js';
import { tally } from '../suite/summary.js';
import type { Progress } from '../vm/progress.js';
import { runInContainer } from './container.js';
import { removeAll } from './live-containers.js';
import { DockerError, type Engine } from './engine.js';
import type { Image } from './image.js';

export const FAILURES_IN_CONTAINER = '/out/failures';

export interface ShardedRun {
  readonly engines: readonly Engine[];
  readonly image: Image;
  readonly shards: number;
  // `dmafault run` arguments every slice repeats (property, runs, profile, ...).
  readonly args: readonly string[];
  // --jobs as given; else each container gets the cores over the slices on its engine.
  readonly jobs?: number;
  readonly failuresDir: string;
  readonly runId: string;
}

export async function runShards(run: ShardedRun, progress: Progress): Promise<ShardPart[]> {
  const { engines, shards } = run;
  const engineOf = (i: number) => engines[(i - 1) % engines.length]!;
  const perEngine = (e: Engine) => Array.from({ length: shards }, (_, i) => i + 1).filter((i) => engineOf(i) === e).length;
  const failuresDir = resolve(run.failuresDir);
  const outcomes = await Promise.allSettled(
    Array.from({ length: shards }, (_, k) => runShard(k + 1).catch((err: unknown) => {
      // One slice broke: stop the others now rather than after their runs.
      void removeAll();
      throw err;
    })),
  );
  // Every container is gone by now (each removes its own); the first error wins.
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<ShardPart>).value);

  async function runShard(i: number): Promise<ShardPart> {
    const engine = engineOf(i);
      const jobs = run.jobs ?? Math.max(1, Math.floor(availableParallelism() / perEngine(engine)));
      const tag = `shard ${i}/${shards}`;
      const result = await runInContainer(
        {
          engine,
          image: run.image.tag,
          imageId: run.image.ids.get(engine.name)!,
          args: ['run', ...run.args, '--shard', `${i}/${shards}`, '--jobs', String(jobs), '--json', '--failures', FAILURES_IN_CONTAINER],
          out: { path: FAILURES_IN_CONTAINER, dir: failuresDir },
          tag: shards > 1 || engines.length > 1 ? `${tag} @${engine.name}` : 'docker',
          labels: { 'dmafault.run': run.runId },
        },
        progress,
      );
      // 0 passed, 1 a property failed, 3 a property not judged: each prints its JSON.
      if (![0, 1, 3].includes(result.exitCode) || !result.stdout.trim()) {
        throw new DockerError(`${tag} on Docker engine ${engine.name}: dmafault exited with ${result.exitCode} and no summary\n--- its last output ---\n${result.stderrTail}`);
      }
      const part = parsePart(`${tag} (engine ${engine.name})`, result.stdout);
      if (part.summary.shard.index !== i || part.summary.shard.count !== shards) throw new DockerError(`${tag} on Docker engine ${engine.name}: its summary says shard ${part.summary.shard.index}/${part.summary.shard.count}`);
      // Failure files now live on the host.
      const properties = part.summary.properties.map((r) => (r.failureFile?.startsWith(`${FAILURES_IN_CONTAINER}/`) ? { ...r, failureFile: join(failuresDir, r.failureFile.slice(FAILURES_IN_CONTAINER.length + 1)) } : r));
      return { ...part, summary: { ...part.summary, ...tally(properties) } };
  }
}

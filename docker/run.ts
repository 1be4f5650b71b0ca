// The --docker side of `dmafault run`: checks the engines, builds or reuses the
// toolchain image on each, runs the suite's slices in containers and merges
// them as `dmafault merge` would.
import { randomUUID } from 'node:crypto';
import { mergeParts } from '../suite/parts.js';
import type { RunSummary } from '../suite/summary.js';
import { UsageError } from '../vm/errors.js';
import type { Progress } from '../vm/progress.js';
import type { AuditReport } from '../audit/report.js';
import { checkEngine, type Engine, parseEngine } from './engine.js';
import { DEFAULT_BASE, ensureImage } from './image.js';
import { runShards } from './shards.js';

export interface DockerOptions {
  readonly hosts: readonly string[];
  readonly base: string;
  readonly shards: number;
  readonly jobs?: number;
  readonly flavour: string;
  readonly failuresDir: string;
  readonly cache?: string;
  // The run options each slice repeats.
  readonly args: readonly string[];
}

export interface DockerRunResult {
  readonly summary: RunSummary & { readonly shards: number; readonly docker: { readonly image: string; readonly engines: string[] } };
  readonly audit: AuditReport;
}

// Options of `run` that name host paths or host-side logs, which a container cannot use.
const HOST_ONLY = ['kernel', 'kernel-build', 'kernel-modules', 'keep-logs', 'shard'] as const;

export function checkDockerOptions(values: Record<string, unknown>): void {
  if (!values.docker) {
    if (values.shards !== undefined) throw new UsageError('--shards N runs N slices in containers: add --docker (without Docker: --shard I/N on each machine, then dmafault merge)');
    if ((values['docker-host'] as string[] | undefined)?.length) throw new UsageError('--docker-host names an engine for --docker: add --docker');
    if (values['docker-base'] !== undefined) throw new UsageError('--docker-base names the image base for --docker: add --docker');
    return;
  }
  for (const key of HOST_ONLY) {
    if (values[key] !== undefined && values[key] !== false) {
      throw new UsageError(`--${key} cannot go with --docker: ${key === 'shard' ? 'use --shards N' : key === 'keep-logs' ? 'the logs stay in the container, which is removed' : 'the image carries its own kernel'}`);
    }
  }
}

export async function dockerRun(options: DockerOptions, progress: Progress): Promise<DockerRunResult> {
  const engines: Engine[] = (options.hosts.length ? options.hosts : [undefined]).map(parseEngine);
  const names = engines.map((e) => e.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new UsageError(`--docker-host ${twice} is given twice`);
  for (const engine of engines) {
    const { version } = await checkEngine(engine);
    progress(`[${engine.name}] Docker engine ${version}`);
  }
  const image = await ensureImage(engines, { base: options.base, flavours: options.flavour === 'debug' ? ['stock', 'debug'] : ['stock'], cache: options.cache }, progress);
  const parts = await runShards({ engines, image, shards: options.shards, args: options.args, jobs: options.jobs, failuresDir: options.failuresDir, runId: randomUUID() }, progress);
  const { audit, ...merged } = mergeParts(parts);
  return { summary: { ...merged, docker: { image: image.tag, engines: names } }, audit };
}

export const dockerHelp = `  --docker               run the suite in containers of the toolchain image (docker/),
                         built or reused on each engine; failure files come back here
  --shards N             with --docker: N slices in N containers at once, merged
  --docker-host URL      an engine (unix:///path.sock or tcp://127.0.0.1:PORT); repeat
                         it to spread the slices over several (default: $DOCKER_HOST,
                         else unix:///var/run/docker.sock)
  --docker-base IMAGE    the image's base (default ${DEFAULT_BASE}; without a registry,
                         one made from a debootstrap rootfs by docker/make-base.sh)`;

// The toolchain image on each engine: reused when its tag (the context's hash)
// is there, copied from another engine that has it, or built. The base is
// debian:bookworm-slim when a registry answers, else an image imported from a
// debootstrap rootfs (docker/make-base.sh), made once and kept in the cache.
import { createReadStream, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { cacheRoot } from '../vm/cache.js';
import type { Progress } from '../vm/progress.js';
import { projectRoot, version } from '../vm/project-root.js';
import { runCommand } from '../vm/run-command.js';
import { packContext } from './context.js';
import { DockerError, type Engine, onEngine } from './engine.js';

export const DEFAULT_BASE = 'debian:bookworm-slim';
export const IMPORTED_BASE = 'dmafault/base:bookworm';
const REPOSITORY = 'dmafault/toolchain';

export interface ImageOptions {
  // The base image; DEFAULT_BASE falls back to IMPORTED_BASE without a registry.
  readonly base: string;
  // Flavours whose kernel the image carries ready (the debug one is a kernel build).
  readonly flavours: readonly string[];
  readonly cache?: string;
  // Build again from nothing but the base, even when the tag is there (bench: a cold build).
  readonly noCache?: boolean;
}

export interface Image {
  readonly tag: string;
  // Per engine name: the image id there.
  readonly ids: ReadonlyMap<string, string>;
  readonly base: string;
  // Build seconds on the engine that built it, when one did.
  readonly buildSeconds?: number;
  // Bytes, on the first engine.
  readonly size: number;
}

async function imageId(engine: Engine, name: string): Promise<string | undefined> {
  try {
    return (await engine.docker.getImage(name).inspect()).Id;
  } catch {
    return undefined;
  }
}

// Follows a build or pull stream to its end; a stream error becomes the rejection.
function follow(docker: Docker, stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string } }) => {
        if (event.error) reject(new Error(event.errorDetail?.message ?? event.error));
        for (const line of (event.stream ?? event.status ?? '').split('\n')) if (line.trim()) onLine(line.trimEnd());
      },
    );
  });
}

async function pull(engine: Engine, name: string): Promise<boolean> {
  try {
    const stream = await engine.docker.pull(name);
    await follow(engine.docker, stream, () => undefined);
    return true;
  } catch {
    return false;
  }
}

// The base on this engine: pulled, or imported from the debootstrap tarball.
async function ensureBase(engine: Engine, options: ImageOptions, progress: Progress): Promise<string> {
  if (await imageId(engine, options.base)) return options.base;
  if (options.base !== DEFAULT_BASE) {
    if (await pull(engine, options.base)) return options.base;
    throw new DockerError(`Docker engine ${engine.name}: base image ${options.base}: not there and cannot be pulled`);
  }
  if (await imageId(engine, IMPORTED_BASE)) return IMPORTED_BASE;
  progress(`[${engine.name}] pulling ${DEFAULT_BASE}`);
  if (await pull(engine, DEFAULT_BASE)) return DEFAULT_BASE;
  const dir = join(cacheRoot(options.cache), 'docker');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tarball = join(dir, 'base-bookworm.tar');
  if (!existsSync(tarball)) {
    progress(`[${engine.name}] no registry answers: making ${IMPORTED_BASE} from a debootstrap rootfs (docker/make-base.sh)`);
    const started = performance.now();
    await runCommand('bash', [join(projectRoot, 'docker/make-base.sh'), '--tar', tarball], { timeoutMs: 1_800_000 }).catch((err: Error) => {
      throw new DockerError(`making the base image: docker/make-base.sh failed: ${err.message}`, { cause: err });
    });
    progress(`[${engine.name}] debootstrap rootfs ready in ${Math.round((performance.now() - started) / 1000)} s`);
  }
  await onEngine(engine, `importing ${IMPORTED_BASE}`, async () => {
    const [repo, tag] = IMPORTED_BASE.split(':');
    const stream = await engine.docker.importImage(createReadStream(tarball), { repo, tag, changes: ['CMD ["/bin/bash"]', 'ENV LANG=C.UTF-8'] } as Record<string, unknown>);
    await follow(engine.docker, stream, () => undefined);
  });
  return IMPORTED_BASE;
}

async function build(engine: Engine, tag: string, contextFile: string, base: string, options: ImageOptions, progress: Progress): Promise<number> {
  const started = performance.now();
  const tail: string[] = [];
  await onEngine(engine, `building ${tag} (from ${base})`, async () => {
    const stream = await engine.docker.buildImage(createReadStream(contextFile), {
      t: tag,
      buildargs: { BASE: base, FLAVOURS: options.flavours.join(' ') },
      // Build steps reach Debian's archive through the host's network.
      networkmode: 'host',
      forcerm: true,
      nocache: options.noCache === true,
      labels: { 'dmafault.version': version(), 'dmafault.node': process.version, 'dmafault.base': base, 'dmafault.flavours': options.flavours.join(' ') },
    });
    await follow(engine.docker, stream, (line) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (/^Step \d+\/\d+ :/.test(line) || /^dmafault: /.test(line)) progress(`[${engine.name}] ${line}`);
    });
  }).catch((err: Error) => {
    throw new DockerError(`${err.message}\n--- last build output ---\n${tail.join('\n')}`, { cause: err });
  });
  return (performance.now() - started) / 1000;
}

// Copies an image from one engine to another (save, then load).
async function transfer(from: Engine, to: Engine, tag: string): Promise<void> {
  await onEngine(to, `loading ${tag} from ${from.name}`, async () => {
    const stream = await from.docker.getImage(tag).get();
    const load = await to.docker.loadImage(stream);
    await follow(to.docker, load, () => undefined);
  });
}

// The image on every engine; builds at most once.
export async function ensureImage(engines: readonly Engine[], options: ImageOptions, progress: Progress): Promise<Image> {
  const context = await packContext();
  try {
    const first = engines[0]!;
    const base = await ensureBase(first, options, progress);
    const flavours = [...options.flavours].sort().join('+');
    const tag = `${REPOSITORY}:${context.hash.slice(0, 16)}-${base.replace(/[^\w.-]+/g, '_')}-${flavours}`;
    const ids = new Map<string, string>();
    let buildSeconds: number | undefined;
    for (const engine of options.noCache ? [] : engines) {
      const id = await imageId(engine, tag);
      if (id) ids.set(engine.name, id);
    }
    for (const engine of engines) {
      if (ids.has(engine.name)) continue;
      const holder = engines.find((e) => ids.has(e.name));
      if (holder) {
        progress(`[${engine.name}] copying ${tag} from ${holder.name}`);
        await transfer(holder, engine, tag);
      } else {
        if (engine !== first) await ensureBase(engine, options, progress);
        progress(`[${engine.name}] building ${tag} from ${base}`);
        buildSeconds = await build(engine, tag, context.file, base, options, progress);
        progress(`[${engine.name}] built ${tag} in ${Math.round(buildSeconds)} s`);
      }
      const id = await imageId(engine, tag);
      if (!id) throw new DockerError(`Docker engine ${engine.name}: ${tag} is not there after its build or copy`);
      ids.set(engine.name, id);
    }
    const { Size: size } = await first.docker.getImage(tag).inspect();
    return { tag, ids, base, size, ...(buildSeconds !== undefined ? { buildSeconds } : {}) };
  } finally {
    await context.dispose();
  }
}

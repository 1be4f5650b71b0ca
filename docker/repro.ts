// `dmafault repro FILE --docker`: the replay in the very image the failure file
// names (environment.image), on the engine given or the default one.
import { basename, dirname, resolve } from 'node:path';
import type { FailureFile } from '../reproduce/failure-file.js';
import { UsageError } from '../vm/errors.js';
import type { Progress } from '../vm/progress.js';
import { runInContainer } from './container.js';
import { checkEngine, DockerError, parseEngine } from './engine.js';

export interface DockerRepro {
  readonly failure: FailureFile;
  readonly file: string;
  readonly host?: string;
  // The reproducer's host path (--script), written in the container as /out/NAME.
  readonly script?: string;
  readonly json: boolean;
}

// "dmafault/toolchain:TAG@sha256:..." -> the id.
export function recordedImage(failure: FailureFile): { tag: string; id: string } {
  const image = failure.environment.image;
  const m = image === undefined ? null : /^(.+)@(sha256:[0-9a-f]{64})$/.exec(image);
  if (!m) throw new UsageError(`this failure was not found in Docker (its environment names no image${image ? `: "${image}" is not TAG@sha256:ID` : ''}); replay it without --docker`);
  return { tag: m[1]!, id: m[2]! };
}

export async function dockerRepro(r: DockerRepro, progress: Progress): Promise<{ exitCode: number; stdout: string }> {
  const { tag, id } = recordedImage(r.failure);
  const engine = parseEngine(r.host);
  await checkEngine(engine);
  const there = await engine.docker
    .getImage(id)
    .inspect()
    .catch(() => undefined);
  if (!there) throw new DockerError(`Docker engine ${engine.name}: the image this failure ran in (${tag}, ${id}) is not there: run dmafault run --docker on that engine with the same checkout, or docker load the image, or replay without --docker`);
  const args = ['repro', '/in/failure.json', ...(r.script ? ['--script', `/out/${basename(r.script)}`] : []), ...(r.json ? ['--json'] : [])];
  const result = await runInContainer(
    {
      engine,
      image: tag,
      imageId: id,
      args,
      inputs: { 'failure.json': `${JSON.stringify(r.failure)}\n` },
      ...(r.script ? { out: { path: '/out', dir: dirname(resolve(r.script)) } } : {}),
      tag: 'docker',
    },
    progress,
  );
  return { exitCode: result.exitCode, stdout: result.stdout };
}

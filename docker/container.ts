// Runs one dmafault command in a container of the toolchain image: its stderr
// streams as progress, its stdout is kept, and what it wrote under /out comes
// back to a host directory. The container is removed whatever happens.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import tar from 'tar-fs';
import type { Progress } from '../vm/progress.js';
import { DockerError, type Engine, onEngine } from './engine.js';
import { removeContainer, trackContainer } from './live-containers.js';

export interface ContainerJob {
  readonly engine: Engine;
  readonly image: string;
  readonly imageId: string;
  // dmafault's arguments (after `dmafault`).
  readonly args: readonly string[];
  // Files to put under /in before the start: name -> content.
  readonly inputs?: Readonly<Record<string, string>>;
  // A directory in the container whose contents come back to a host directory.
  readonly out?: { readonly path: string; readonly dir: string };
  // Prefix of progress lines, e.g. "shard 1/2".
  readonly tag: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface ContainerResult {
  readonly exitCode: number;
  readonly stdout: string;
  // The last lines of stderr, for errors.
  readonly stderrTail: string;
}

// /dev/kvm goes in when the host has it and it opens (the guest then runs under KVM).
function kvmDevices(): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] {
  return existsSync('/dev/kvm') ? [{ PathOnHost: '/dev/kvm', PathInContainer: '/dev/kvm', CgroupPermissions: 'rwm' }] : [];
}

// Puts the files under /in of the container (created, not started).
async function putInputs(container: Docker.Container, files: Readonly<Record<string, string>>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dmafault-in-'));
  try {
    for (const [name, body] of Object.entries(files)) await writeFile(join(dir, basename(name)), body, { mode: 0o600 });
    await container.putArchive(tar.pack(dir), { path: '/in' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runInContainer(job: ContainerJob, progress: Progress): Promise<ContainerResult> {
  const { engine } = job;
  const container = await onEngine(engine, `creating a container of ${job.image}`, () =>
    engine.docker.createContainer({
      Image: job.imageId,
      Cmd: ['node', '/opt/dmafault/bin/dmafault.js', ...job.args],
      Env: [`DMAFAULT_IMAGE=${job.image}@${job.imageId}`],
      Labels: { 'dmafault.job': job.tag, ...job.labels },
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: { Init: true, Devices: kvmDevices(), NetworkMode: 'none' },
    }),
  );
  trackContainer(container);
  try {
    if (job.inputs) await onEngine(engine, 'copying the inputs in', () => putInputs(container, job.inputs!));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const chunks: Buffer[] = [];
    const tail: string[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    let partial = '';
    stderr.on('data', (c: Buffer) => {
      const lines = (partial + c.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        progress(`[${job.tag}] ${line.replace(/^dmafault: /, '')}`);
        tail.push(line);
        if (tail.length > 60) tail.shift();
      }
    });
    const attached = await onEngine(engine, 'attaching to the container', () => container.attach({ stream: true, stdout: true, stderr: true }));
    container.modem.demuxStream(attached, stdout, stderr);
    await onEngine(engine, 'starting the container', () => container.start());
    const { StatusCode } = (await onEngine(engine, 'waiting for the container', () => container.wait())) as { StatusCode: number };
    // The attach stream ends after the exit; give it that moment.
    await new Promise<void>((resolve) => {
      if ((attached as unknown as Readable).readableEnded) return resolve();
      const timer = setTimeout(resolve, 10_000);
      attached.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (partial) tail.push(partial);
    if (job.out) {
      // The archive holds the directory itself: strip its name. (None when nothing was written.)
      const archive = await container.getArchive({ path: job.out.path }).catch(() => undefined);
      if (archive) {
        await mkdir(job.out.dir, { recursive: true });
        await pipeline(archive, tar.extract(job.out.dir, { strip: 1 }));
      }
    }
    return { exitCode: StatusCode, stdout: Buffer.concat(chunks).toString(), stderrTail: tail.join('\n') };
  } catch (err) {
    if (err instanceof DockerError) throw err;
    throw new DockerError(`Docker engine ${engine.name}: ${job.tag}: ${(err as Error).message}`, { cause: err });
  } finally {
    await removeContainer(container);
  }
}

// `run --docker` against real Docker engines (.ci/run starts dockerd; a second
// one on its own socket, data root and bridge is started here): the suite in
// sharded containers, a failure file that names its image and replays there,
// slices over two engines, and the failure modes, each leaving no container
// and no QEMU behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = new URL('../../bin/dmafault.js', import.meta.url).pathname;
const ENGINE1 = 'unix:///var/run/docker.sock';
const dmafault = (args: string[]) => execa('node', [bin, ...args], { reject: false, stdin: 'ignore' });

// Containers of dmafault runs still there, on one engine.
function leftovers(host = ENGINE1): string {
  return execFileSync('docker', ['-H', host, 'ps', '-a', '-q', '--filter', 'label=dmafault.run'], { encoding: 'utf8' }).trim();
}

function qemuCount(): number {
  return Number(spawnSync('pgrep', ['-c', 'qemu-system'], { encoding: 'utf8' }).stdout.trim() || '0');
}

// A second engine, as the Docker docs describe one: own socket, data root,
// exec root, pidfile, and its own bridge (sharing docker0 breaks both).
class SecondEngine {
  readonly root = '/var/lib/dmafault-test-docker2';
  readonly run = '/run/dmafault-d2';
  readonly host = 'unix:///run/dmafault-d2.sock';
  private pid = 0;

  async start(): Promise<void> {
    await execa('sh', ['-c', 'ip link show dmafault1 >/dev/null 2>&1 || { ip link add dmafault1 type bridge && ip addr add 172.29.0.1/16 dev dmafault1 && ip link set dmafault1 up; }']);
    await mkdir(this.root, { recursive: true });
    const child = execa('dockerd', ['-H', this.host, '--data-root', this.root, '--exec-root', this.run, '--pidfile', `${this.run}.pid`, '--bridge=dmafault1'], { detached: true, stdio: 'ignore', reject: false });
    this.pid = child.pid!;
    child.unref();
    for (let i = 0; i < 60; i++) {
      if ((await execa('docker', ['-H', this.host, 'info'], { reject: false })).exitCode === 0) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error('the second dockerd did not answer within 60 s');
  }

  async stop(): Promise<void> {
    if (this.pid) {
      process.kill(this.pid, 'SIGTERM');
      for (let i = 0; i < 60 && existsSync(`/proc/${this.pid}`); i++) await new Promise((r) => setTimeout(r, 500));
    }
    await execa('sh', ['-c', `umount ${this.run}/netns/default 2>/dev/null; ip link del dmafault1 2>/dev/null; true`]);
  }
}

describe('dmafault run --docker', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmafault-docker-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Every property on every profile, 20 cases each (the whole default suite,
  // 3075 cases, took 270 s here, and once more than 600 s in a fresh-clone
  // run, with no output to say where: the run is now stopped at 480 s, so
  // that its progress shows in the failure).
  it('runs every property on every profile in two containers and merges the slices', async () => {
    const run = await execa('node', [bin, 'run', '--docker', '--shards', '2', '--runs', '20', '--json', '--failures', join(dir, 'suite')], {
      reject: false,
      stdin: 'ignore',
      timeout: 480_000,
      killSignal: 'SIGINT',
    });
    // What failed, first (the progress tail alone may not reach back to it).
    const failed = (JSON.parse(run.stdout || '{}').failures ?? []).map((f: { profile: string; property: string; error?: string; replay?: string }) => `${f.profile} ${f.property}: ${f.error}\n  ${f.replay}`);
    expect(run.exitCode, `${failed.join('\n')}\n${run.stderr.slice(-4000)}`).toBe(0);
    const summary = JSON.parse(run.stdout);
    console.log(`run --docker --shards 2: ${summary.cases} cases in ${(summary.duration_ms / 1000).toFixed(1)} s (slowest slice), image ${summary.docker.image}`);
    expect(summary.shards).toBe(2);
    expect(summary.properties).toHaveLength(15);
    expect(summary.failures).toEqual([]);
    expect(summary.cases).toBe(15 * 20);
    expect(summary.docker.image).toMatch(/^dmafault\/toolchain:/);
    // Each slice ran its units in its own container on this engine.
    expect(run.stderr).toMatch(/\[shard 1\/2 @unix:\/\/\/var\/run\/docker\.sock\]/);
    expect(run.stderr).toMatch(/\[shard 2\/2 @unix:\/\/\/var\/run\/docker\.sock\]/);
    expect(leftovers()).toBe('');
  });

  it('brings a failure file back that names its image, and repro --docker replays it in that image', async () => {
    const failures = join(dir, 'variant');
    const run = await dmafault(['run', '--docker', '--property', 'badinput', '--profile', 'direct', '--variant', 'enomem-for-efault', '--runs', '300', '--json', '--failures', failures]);
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(1);
    const summary = JSON.parse(run.stdout);
    const file = summary.failures[0].failureFile as string;
    expect(file.startsWith(failures)).toBe(true);
    const failure = JSON.parse(await readFile(file, 'utf8'));
    expect(failure.environment.image).toMatch(/^dmafault\/toolchain:[\w.-]+@sha256:[0-9a-f]{64}$/);
    expect(failure.environment.image.split('@')[0]).toBe(summary.docker.image);
    expect(failure.environment.node).toBe(process.version);

    const repro = await dmafault(['repro', file, '--docker', '--json']);
    expect(repro.exitCode, repro.stderr.slice(-3000)).toBe(1);
    const result = JSON.parse(repro.stdout);
    expect(result.reproduced).toBe(true);
    // Replayed inside the image it names: nothing differs from where it was found.
    expect(result.environment_differences).toEqual([]);
    expect(leftovers()).toBe('');
  });

  it('spreads the slices over a second engine, copying the image there', async () => {
    const second = new SecondEngine();
    try {
      await second.start();
      const run = await dmafault(['run', '--docker', '--shards', '2', '--docker-host', ENGINE1, '--docker-host', second.host, '--profile', 'direct', '--runs', '10', '--json', '--failures', join(dir, 'two')]);
      expect(run.exitCode, run.stderr.slice(-4000)).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary.docker.engines).toEqual([ENGINE1, second.host]);
      expect(run.stderr).toMatch(/\[shard 1\/2 @unix:\/\/\/var\/run\/docker\.sock\] .*passed/);
      expect(run.stderr).toMatch(/\[shard 2\/2 @unix:\/\/\/run\/dmafault-d2\.sock\] .*passed/);
      expect(summary.properties).toHaveLength(5);
      expect(leftovers(second.host)).toBe('');
    } finally {
      await second.stop();
    }
  });

  it('names the engine that does not answer, and the base that cannot be had', async () => {
    const gone = await dmafault(['run', '--docker', '--docker-host', 'unix:///run/dmafault-no-engine.sock', '--runs', '1']);
    expect(gone.exitCode).toBe(3);
    expect(gone.stderr).toMatch(/E_DOCKER: Docker engine unix:\/\/\/run\/dmafault-no-engine\.sock: not reachable/);
    const base = await dmafault(['run', '--docker', '--docker-base', 'dmafault/no-such-base:1', '--runs', '1']);
    expect(base.exitCode).toBe(3);
    expect(base.stderr).toMatch(/E_DOCKER: Docker engine unix:\/\/\/var\/run\/docker\.sock: base image dmafault\/no-such-base:1: not there and cannot be pulled/);
    expect(leftovers()).toBe('');
  });

  it('names the engine and the build step that failed, with its output, and keeps no container', async () => {
    // A base with no shell: the first RUN step of the Dockerfile cannot run.
    await execa('sh', ['-c', 'docker image inspect dmafault-test/no-shell:1 >/dev/null 2>&1 || tar -cf - --files-from /dev/null | docker import - dmafault-test/no-shell:1']);
    const run = await dmafault(['run', '--docker', '--docker-base', 'dmafault-test/no-shell:1', '--runs', '1']);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/E_DOCKER: Docker engine unix:\/\/\/var\/run\/docker\.sock: building dmafault\/toolchain:\S+ \(from dmafault-test\/no-shell:1\) failed: .*\n--- last build output ---\n[^]*Step 5\/\d+ : RUN apt-get update/);
    expect(execFileSync('docker', ['ps', '-a', '-q', '--filter', 'ancestor=dmafault-test/no-shell:1'], { encoding: 'utf8' }).trim()).toBe('');
    expect(leftovers()).toBe('');
  });

  // Waits for a guest to come up in a sharded run, then does `act` to it.
  async function interrupt(act: (child: ReturnType<typeof dmafault>) => Promise<void>) {
    const child = dmafault(['run', '--docker', '--shards', '2', '--profile', 'direct', '--property', 'lifecycle', '--runs', '200', '--failures', join(dir, 'interrupted')]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no guest came up within 5 minutes')), 300_000);
      child.stderr?.on('data', (chunk: Buffer) => {
        if (/guest (up|restored) in/.test(chunk.toString())) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await act(child);
    return child;
  }

  it('a container that dies ends the run naming its slice and engine, and leaves nothing behind', async () => {
    const child = await interrupt(async () => {
      const ids = execFileSync('docker', ['ps', '-q', '--filter', 'label=dmafault.job=shard 1/2 @unix:///var/run/docker.sock'], { encoding: 'utf8' }).trim();
      expect(ids).not.toBe('');
      execFileSync('docker', ['kill', ...ids.split('\n')]);
    });
    const done = await child;
    expect(done.exitCode).toBe(3);
    expect(done.stderr).toMatch(/E_DOCKER: shard 1\/2 on Docker engine unix:\/\/\/var\/run\/docker\.sock: dmafault exited with 137 and no summary/);
    expect(leftovers()).toBe('');
    expect(qemuCount()).toBe(0);
  });

  it('Ctrl-C during a sharded run removes every container, and with them their guests', async () => {
    const child = await interrupt(async (c) => {
      c.kill('SIGINT');
    });
    const done = await child;
    expect(done.exitCode).toBe(130);
    expect(leftovers()).toBe('');
    expect(qemuCount()).toBe(0);
  });
});

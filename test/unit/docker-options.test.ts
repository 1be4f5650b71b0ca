import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { parseEngine } from '../../docker/engine.js';
import { recordedImage } from '../../docker/repro.js';
import { checkDockerOptions } from '../../docker/run.js';
import type { FailureFile } from '../../reproduce/failure-file.js';
import { UsageError } from '../../vm/errors.js';

describe('docker options', () => {
  it('parses engine URLs and names what it expected', () => {
    expect(parseEngine('unix:///run/d2.sock').name).toBe('unix:///run/d2.sock');
    expect(parseEngine('tcp://127.0.0.1:2375').name).toBe('tcp://127.0.0.1:2375');
    for (const bad of ['unix://relative.sock', 'http://127.0.0.1:2375', 'tcp://127.0.0.1', 'ssh://x']) {
      expect(() => parseEngine(bad)).toThrow(/expected unix:\/\/\/.*|expected unix:\/\/\/path\/to\/docker.sock or tcp:\/\/HOST:PORT/);
    }
  });

  it('refuses Docker options without --docker, and host-only options with it', () => {
    expect(() => checkDockerOptions({ shards: '2' })).toThrow(/--shards N runs N slices in containers: add --docker/);
    expect(() => checkDockerOptions({ 'docker-host': ['unix:///x.sock'] })).toThrow(/add --docker/);
    expect(() => checkDockerOptions({ docker: true, kernel: '/boot/vmlinuz' })).toThrow(/--kernel cannot go with --docker: the image carries its own kernel/);
    expect(() => checkDockerOptions({ docker: true, shard: '1/2' })).toThrow(/use --shards N/);
    expect(() => checkDockerOptions({ docker: true, 'keep-logs': false, shards: '2' })).not.toThrow();
  });

  it('finds the image a failure ran in, or says it ran outside Docker', () => {
    const id = `sha256:${'a'.repeat(64)}`;
    const failure = (image?: string) => ({ environment: { image } }) as unknown as FailureFile;
    expect(recordedImage(failure(`dmafault/toolchain:abc@${id}`))).toEqual({ tag: 'dmafault/toolchain:abc', id });
    expect(() => recordedImage(failure())).toThrow(UsageError);
    expect(() => recordedImage(failure())).toThrow(/not found in Docker .*replay it without --docker/);
    expect(() => recordedImage(failure('dmafault/toolchain:abc'))).toThrow(/is not TAG@sha256:ID/);
  });

  it('exits 2 on bad Docker usage before contacting any engine', async () => {
    await expect(main(['run', '--shards', '2'])).resolves.toBe(2);
    await expect(main(['run', '--docker', '--shards', '0'])).resolves.toBe(2);
    await expect(main(['run', '--docker', '--docker-host', 'ftp://x'])).resolves.toBe(2);
    await expect(main(['run', '--docker', '--docker-host', 'unix:///a.sock', '--docker-host', 'unix:///a.sock'])).resolves.toBe(2);
  });
});

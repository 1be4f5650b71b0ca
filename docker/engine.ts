// Docker engines: one per --docker-host URL (unix:///path.sock, tcp://host:port),
// or DOCKER_HOST, or the local socket. Every error names the engine and the step.
import Docker from 'dockerode';
import { DmafaultError, UsageError } from '../vm/errors.js';

// An engine that is missing, unreachable, or failed a step (build, run, copy).
export class DockerError extends DmafaultError {
  readonly code = 'E_DOCKER';
  readonly kind = 'infra';
}

export interface Engine {
  // As given (or DOCKER_HOST, or the default socket), for messages.
  readonly name: string;
  readonly docker: Docker;
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

export function parseEngine(url: string | undefined): Engine {
  const given = url ?? process.env.DOCKER_HOST;
  if (!given) return { name: `unix://${DEFAULT_SOCKET}`, docker: new Docker({ socketPath: DEFAULT_SOCKET }) };
  if (given.startsWith('unix://')) {
    const socketPath = given.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new UsageError(`--docker-host ${given}: expected unix:///absolute/path.sock`);
    return { name: given, docker: new Docker({ socketPath }) };
  }
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(given);
  if (tcp) return { name: given, docker: new Docker({ host: tcp[1], port: Number(tcp[2]), protocol: 'http' }) };
  throw new UsageError(`--docker-host ${given}: expected unix:///path/to/docker.sock or tcp://HOST:PORT`);
}

// Fails with the engine named when it does not answer within `ms`.
export async function checkEngine(engine: Engine, ms = 10_000): Promise<{ version: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const version = await Promise.race([
      engine.docker.version(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
      }),
    ]);
    return { version: version.Version };
  } catch (err) {
    throw new DockerError(`Docker engine ${engine.name}: not reachable (${(err as Error).message}); is dockerd running there? (.ci/run starts one: dockerd &)`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

// Runs `fn`, turning any failure into a DockerError that names the engine and the step.
export async function onEngine<T>(engine: Engine, step: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DmafaultError) throw err;
    throw new DockerError(`Docker engine ${engine.name}: ${step} failed: ${(err as Error).message}`, { cause: err });
  }
}

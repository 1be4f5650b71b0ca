// Every container this process created, so none outlives it: removed when the
// run ends, and on SIGINT/SIGTERM/SIGHUP before the process exits.
import type Docker from 'dockerode';

const live = new Map<string, Docker.Container>();
let installed = false;

export async function removeAll(): Promise<void> {
  const containers = [...live.values()];
  live.clear();
  await Promise.allSettled(containers.map((c) => c.remove({ force: true })));
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // Runs before the QEMU tracker's handler exits the process only if added
    // first; so it exits itself, after the removals (at most 20 s).
    process.prependListener(signal, () => {
      const code = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
      const timer = setTimeout(() => process.exit(code), 20_000);
      void removeAll().finally(() => {
        clearTimeout(timer);
        process.exit(code);
      });
    });
  }
}

export function trackContainer(container: Docker.Container): void {
  install();
  live.set(container.id, container);
}

export async function removeContainer(container: Docker.Container): Promise<void> {
  live.delete(container.id);
  await container.remove({ force: true }).catch(() => undefined);
}

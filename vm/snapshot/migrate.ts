// Saving a running guest to a file and bringing one back, through QMP.
// QEMU 7.2 migrates to and from a command (exec:); file: URIs came in 8.2.
import { SnapshotError } from '../errors.js';
import type { Qmp } from '../qemu/qmp.js';

// Migration is throttled to 32 MiB/s unless told otherwise; a file takes any speed.
const BANDWIDTH = 8 * 1024 ** 3;

function quoted(path: string): string {
  if (/['\n]/.test(path)) throw new SnapshotError(`a snapshot path may not hold a quote or a newline: ${path}`);
  return `'${path}'`;
}

async function poll<T>(deadline: number, what: string, read: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new SnapshotError(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Stops the guest, writes its state to `file`, and lets it run on.
export async function saveGuest(qmp: Qmp, file: string, deadline: number): Promise<void> {
  const uri = `exec:cat > ${quoted(file)}`;
  await qmp.execute('stop');
  try {
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': BANDWIDTH });
    await qmp.execute('migrate', { uri });
    const status = await poll(deadline, 'saving the guest', async () => {
      const info = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
      return info.status === 'completed' || info.status === 'failed' || info.status === 'cancelled' ? info : undefined;
    });
    if (status.status !== 'completed') throw new SnapshotError(`saving the guest ${status.status}: ${status['error-desc'] ?? 'no reason given'}`);
  } finally {
    await qmp.execute('cont');
  }
}

// The -incoming argument that loads `file`.
export function incomingArg(file: string): string {
  return `exec:cat ${quoted(file)}`;
}

// Waits until an -incoming guest has loaded its state, and starts it (the
// guest was stopped when it was saved, so it comes back paused).
export async function resumeRestored(qmp: Qmp, deadline: number): Promise<void> {
  const status = await poll(deadline, 'loading the snapshot', async () => {
    const info = (await qmp.execute('query-status')) as { status?: string };
    return info.status === 'inmigrate' ? undefined : info.status;
  });
  if (status === 'paused' || status === 'postmigrate' || status === 'prelaunch') await qmp.execute('cont');
  else if (status !== 'running') throw new SnapshotError(`the restored guest is ${status ?? 'in an unknown state'}, not paused or running`);
}

// Every timeout of the harness, derived from one scale factor (DMAFAULT_TIMEOUT_SCALE),
// so a slow or loaded machine is fixed with one knob.

function scale(): number {
  const raw = process.env.DMAFAULT_TIMEOUT_SCALE;
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`DMAFAULT_TIMEOUT_SCALE must be a positive number, got "${raw}"`);
  }
  return value;
}

const base = {
  bootMs: 60_000,
  restoreMs: 30_000,
  snapshotSaveMs: 60_000,
  sshAttemptMs: 5_000,
  consoleSyncMs: 3_000,
  requestMs: 15_000,
  // A shell command over SSH (insmod, an unbind, a kmemleak scan of seconds).
  shellMs: 120_000,
  shutdownMs: 3_000,
  buildMs: 300_000,
  kernelBuildMs: 3_600_000,
} as const;

export type TimeoutName = keyof typeof base;

export function timeout(name: TimeoutName): number {
  return Math.round(base[name] * scale());
}

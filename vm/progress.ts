// Progress lines for slow steps (download, build, boot), on stderr so --json stays clean.

export type Progress = (message: string) => void;

export const silent: Progress = () => {};

export function stderrProgress(prefix = 'dmafault'): Progress {
  return (message) => process.stderr.write(`${prefix}: ${message}\n`);
}

// Runs a step, reporting its start and how long it took.
export async function step<T>(progress: Progress, what: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  progress(`${what} ...`);
  const result = await run();
  progress(`${what} done (${Math.round(performance.now() - started)} ms)`);
  return result;
}

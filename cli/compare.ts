// bench --compare REF: the benchmark on this tree and on a git ref, one after
// the other in one run, and the ratio of every figure both report (this tree's
// over the ref's), so a change shows without trusting absolute numbers on a
// noisy machine. The ref is checked out in a temporary git worktree and built
// there; with --catalogue, each tree's bug-catalogue test is timed too.
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { UsageError } from '../vm/errors.js';
import { projectRoot } from '../vm/project-root.js';
import type { Progress } from '../vm/progress.js';
import { round } from './stats.js';

type Figures = Record<string, unknown>;

export interface Comparison {
  readonly ref: string;
  readonly commit: string;
  readonly current: Figures;
  readonly base: Figures;
  // current / base for every finite number both report.
  readonly ratio: Record<string, number>;
}

async function resolveRef(ref: string): Promise<string> {
  const { stdout, exitCode } = await execa('git', ['-C', projectRoot, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { reject: false });
  if (exitCode !== 0 || !stdout.trim()) throw new UsageError(`--compare: "${ref}" is not a commit of this repository; expected a branch, tag or commit id`);
  return stdout.trim();
}

// A worktree of `commit`, built; its node_modules are this tree's when the
// lockfiles agree, else installed with npm ci.
async function checkout(commit: string, progress: Progress): Promise<{ dir: string; remove: () => Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), 'dmafault-compare-'));
  const dir = join(parent, 'tree');
  const remove = async () => {
    await execa('git', ['-C', projectRoot, 'worktree', 'remove', '--force', dir], { reject: false });
    await rm(parent, { recursive: true, force: true });
  };
  try {
    await execa('git', ['-C', projectRoot, 'worktree', 'add', '--detach', dir, commit]);
    const [mine, theirs] = await Promise.all([readFile(join(projectRoot, 'package-lock.json'), 'utf8'), readFile(join(dir, 'package-lock.json'), 'utf8')]);
    if (mine === theirs) await symlink(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
    else {
      progress(`--compare: npm ci in the ref's worktree (its lockfile differs)`);
      await execa('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir });
    }
    await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: dir });
    return { dir, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

async function benchIn(tree: string, args: readonly string[], progress: Progress, label: string): Promise<Figures> {
  progress(`--compare: the benchmark on ${label}`);
  const child = execa('node', [join(tree, 'bin/dmafault.js'), 'bench', '--json', ...args], { cwd: tree, reject: false, stderr: 'pipe' });
  child.stderr?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) progress(`  [${label}] ${line}`);
  });
  const result = await child;
  if (result.exitCode !== 0) throw new Error(`the benchmark on ${label} failed (exit ${result.exitCode})`);
  return JSON.parse(String(result.stdout).trim().split('\n').pop() ?? '{}') as Figures;
}

// The catalogue test's wall time, and whether it passed (a variant missed on
// one tree is reported, not fatal: the time still compares).
async function catalogueIn(tree: string, progress: Progress, label: string): Promise<Figures> {
  progress(`--compare: the bug-catalogue test on ${label}`);
  const started = performance.now();
  const result = await execa('npx', ['vitest', 'run', 'test/guest/catalogue.test.ts'], { cwd: tree, reject: false, all: true });
  const ms = Math.round(performance.now() - started);
  if (result.exitCode !== 0) progress(`--compare: the catalogue test on ${label} failed:\n${String(result.all).slice(-3000)}`);
  return { catalogue_ms: ms, catalogue_passed: result.exitCode === 0 };
}

export function ratios(current: Figures, base: Figures): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(current)) {
    const other = base[key];
    if (typeof value === 'number' && typeof other === 'number' && Number.isFinite(value) && Number.isFinite(other) && other !== 0) out[key] = round(value / other, 3);
  }
  return out;
}

export async function compare(ref: string, args: readonly string[], withCatalogue: boolean, progress: Progress): Promise<Comparison> {
  const commit = await resolveRef(ref);
  const tree = await checkout(commit, progress);
  try {
    let current = await benchIn(projectRoot, args, progress, 'this tree');
    let base = await benchIn(tree.dir, args, progress, ref);
    if (withCatalogue) {
      current = { ...current, ...(await catalogueIn(projectRoot, progress, 'this tree')) };
      base = { ...base, ...(await catalogueIn(tree.dir, progress, ref)) };
    }
    return { ref, commit, current, base, ratio: ratios(current, base) };
  } finally {
    await tree.remove();
  }
}

// Failure files: everything needed to replay one failure on another machine,
// as JSON. parseFailureFile() refuses a malformed, truncated or foreign file
// with the problem named, before anything is booted.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../vm/errors.js';

export const FAILURE_FORMAT = 'dmafault-failure';
export const FAILURE_VERSION = 1;

export interface FailureFile {
  readonly format: typeof FAILURE_FORMAT;
  readonly version: typeof FAILURE_VERSION;
  readonly property: string;
  readonly profile: string;
  readonly seed: number;
  readonly path: string;
  readonly replayPath?: string;
  // The shrunk counterexample as plain data (command sequences as their text).
  readonly counterexample: unknown;
  readonly oracle: { readonly message: string; readonly evidence?: string };
  readonly environment: {
    readonly kernel: string;
    readonly qemu: string;
    readonly accel: string;
    readonly driverHash: string;
    readonly driverVariant: string | null;
    readonly dmafault: string;
    // Absent in files written before the debug flavour existed: stock.
    readonly flavour?: 'stock' | 'debug';
    readonly kernelIdentity?: string;
    // The Node.js that ran dmafault, and in a container the toolchain image
    // ("dmafault/toolchain:TAG@sha256:ID") that holds everything else recorded here.
    readonly node?: string;
    readonly image?: string;
    // Found under --intercept: the driver built without hooks, judged through dmatap.
    readonly intercept?: boolean;
  };
  readonly replay: string;
  readonly created: string;
}

function need(where: string, ok: boolean, expected: string): void {
  if (!ok) throw new UsageError(`failure file: ${where}: expected ${expected}`);
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

export function parseFailure(text: string, source = 'failure file'): FailureFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source}: not valid JSON (${(err as Error).message}); is the file truncated?`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || (raw as { format?: unknown }).format !== FAILURE_FORMAT) {
    throw new UsageError(`${source}: not a dmafault failure file (expected "format": "${FAILURE_FORMAT}")`);
  }
  const f = raw as Record<string, unknown>;
  need('version', f.version === FAILURE_VERSION, `${FAILURE_VERSION}, got ${JSON.stringify(f.version)}`);
  need('property', isString(f.property), 'a property name');
  need('profile', isString(f.profile), 'a profile name');
  need('seed', Number.isInteger(f.seed), 'an integer seed');
  need('path', isString(f.path) && /^\d+(:\d+)*$/.test(f.path as string), 'a path like 3:0:1');
  need('replayPath', f.replayPath === undefined || isString(f.replayPath), 'a string when present');
  need('counterexample', 'counterexample' in f, 'the shrunk counterexample');
  const oracle = f.oracle as Record<string, unknown> | undefined;
  need('oracle.message', typeof oracle === 'object' && oracle !== null && isString(oracle.message), 'the message of the oracle that fired');
  const env = f.environment as Record<string, unknown> | undefined;
  need('environment', typeof env === 'object' && env !== null, 'an object');
  for (const key of ['kernel', 'qemu', 'accel', 'driverHash', 'dmafault'] as const) {
    need(`environment.${key}`, isString(env![key]), 'a string');
  }
  need('environment.flavour', env!.flavour === undefined || env!.flavour === 'stock' || env!.flavour === 'debug', '"stock" or "debug" when present');
  for (const key of ['kernelIdentity', 'node', 'image'] as const) need(`environment.${key}`, env![key] === undefined || isString(env![key]), 'a string when present');
  need('environment.driverVariant', env!.driverVariant === null || isString(env!.driverVariant), 'a variant name or null');
  need('environment.intercept', env!.intercept === undefined || typeof env!.intercept === 'boolean', 'true or false when present');
  return f as unknown as FailureFile;
}

// The environment a run records in its failure files: what must match for an exact replay.
export async function recordEnvironment(env: { kernel: { release: string; flavour: 'stock' | 'debug'; identity: string }; accel: string }, driver: { hash: string; variant: string | null }, qemu: string, dmafault: string, intercept = false): Promise<FailureFile['environment']> {
  const image = process.env.DMAFAULT_IMAGE;
  return { kernel: env.kernel.release, qemu, accel: env.accel, driverHash: driver.hash, driverVariant: driver.variant, dmafault, flavour: env.kernel.flavour, kernelIdentity: env.kernel.identity, node: process.version, ...(image ? { image } : {}), ...(intercept ? { intercept } : {}) };
}

export async function readFailureFile(file: string): Promise<FailureFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read failure file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseFailure(text, file);
}

// What differs between the environment a failure was found in and this one.
export function environmentDifferences(recorded: FailureFile['environment'], now: FailureFile['environment']): string[] {
  return (Object.keys(recorded) as (keyof FailureFile['environment'])[])
    .filter((key) => recorded[key] !== undefined && recorded[key] !== now[key])
    .map((key) => `${key}: recorded ${recorded[key]}, now ${now[key]}`);
}

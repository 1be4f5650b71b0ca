// Fault plans: which points to arm, on which schedule, with which errno; plain
// data that fits in a failure file. parsePlan() checks untrusted input and names
// exactly what is wrong before anything reaches the guest.
import { UsageError } from '../vm/errors.js';
import { isPointName, type PointName, pointNames, points } from './points.js';

export interface Schedule {
  // Fail exactly the nth evaluation after arming (1-based).
  readonly nth?: number;
  // Otherwise: every interval-th evaluation passes to the probability draw.
  readonly interval?: number;
  readonly probability?: number;
  readonly seed?: number;
  // How many times at most (-1: no limit).
  readonly times?: number;
}

export interface FaultSpec {
  readonly point: PointName;
  readonly schedule: Schedule;
  readonly errno?: number;
  // gup_partial: pages the pin returns (0: random).
  readonly pages?: number;
  // pageout: longest pause of the driver, in ms.
  readonly timeoutMs?: number;
}

export interface FaultPlan {
  readonly faults: readonly FaultSpec[];
}

const U32_MAX = 0xffffffff;

function fail(where: string, message: string): never {
  throw new UsageError(`fault plan: ${where}: ${message}`);
}

function intIn(where: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(where, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function onlyKeys(where: string, value: object, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(where, `unknown field "${key}"; expected ${allowed.join(', ')}`);
  }
}

function parseSchedule(where: string, raw: unknown): Schedule {
  if (typeof raw !== 'object' || raw === null) fail(where, 'expected an object');
  onlyKeys(where, raw, ['nth', 'interval', 'probability', 'seed', 'times']);
  const r = raw as Record<string, unknown>;
  const schedule: Schedule = {
    nth: intIn(`${where}.nth`, r.nth, 1, U32_MAX),
    interval: intIn(`${where}.interval`, r.interval, 1, U32_MAX),
    probability: intIn(`${where}.probability`, r.probability, 0, 100),
    seed: intIn(`${where}.seed`, r.seed, 0, Number.MAX_SAFE_INTEGER),
    times: intIn(`${where}.times`, r.times, -1, 0x7fffffff),
  };
  if (schedule.nth !== undefined && (schedule.interval !== undefined || schedule.probability !== undefined)) {
    fail(where, 'nth excludes interval and probability');
  }
  if (schedule.nth === undefined && !schedule.probability) fail(where, 'expected nth, or a probability above 0');
  return schedule;
}

export function parseSpec(where: string, raw: unknown): FaultSpec {
  if (typeof raw !== 'object' || raw === null) fail(where, 'expected an object');
  onlyKeys(where, raw, ['point', 'schedule', 'errno', 'pages', 'timeoutMs']);
  const r = raw as Record<string, unknown>;
  if (typeof r.point !== 'string' || !isPointName(r.point)) {
    fail(`${where}.point`, `unknown point ${JSON.stringify(r.point)}; expected one of ${pointNames.join(', ')}`);
  }
  const info = points[r.point];
  const errno = intIn(`${where}.errno`, r.errno, 1, 4095);
  if (errno !== undefined && !(info.errnos as readonly number[]).includes(errno)) {
    fail(`${where}.errno`, info.errnos.length ? `${r.point} returns one of ${info.errnos.join(', ')}, not ${errno}` : `${r.point} takes no errno`);
  }
  if (r.pages !== undefined && r.point !== 'gup_partial') fail(`${where}.pages`, 'only gup_partial takes pages');
  if (r.timeoutMs !== undefined && r.point !== 'pageout' && r.point !== 'writeback') fail(`${where}.timeoutMs`, 'only pageout and writeback take timeoutMs');
  return {
    point: r.point,
    schedule: parseSchedule(`${where}.schedule`, r.schedule),
    ...(errno !== undefined ? { errno } : {}),
    ...(r.pages !== undefined ? { pages: intIn(`${where}.pages`, r.pages, 0, U32_MAX) } : {}),
    ...(r.timeoutMs !== undefined ? { timeoutMs: intIn(`${where}.timeoutMs`, r.timeoutMs, 1, 60_000) } : {}),
  };
}

export function parsePlan(raw: unknown): FaultPlan {
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { faults?: unknown }).faults)) {
    fail('plan', 'expected {"faults": [...]}');
  }
  onlyKeys('plan', raw, ['faults']);
  const faults = (raw as { faults: unknown[] }).faults.map((spec, i) => parseSpec(`faults[${i}]`, spec));
  const seen = new Set<string>();
  for (const [i, spec] of faults.entries()) {
    if (seen.has(spec.point)) fail(`faults[${i}].point`, `${spec.point} appears twice`);
    seen.add(spec.point);
  }
  return { faults };
}

// A suite run's results: one report per property on a profile, and the
// summary that run, merge and the Docker back end print, write and join.
import type { AuditReport } from '../audit/report.js';
import type { PropertyReport } from '../reproduce/report.js';

// One slice of the suite (run --shard I/N).
export interface Shard {
  // 1-based.
  readonly index: number;
  readonly count: number;
}

export interface ProfileReport extends PropertyReport {
  readonly profile: string;
  readonly failureFile?: string;
}

export interface RunSummary {
  readonly cases: number;
  readonly failures: ProfileReport[];
  // Properties the harness could not judge (lost connection, a guest that could not boot).
  readonly errors: ProfileReport[];
  readonly properties: ProfileReport[];
  readonly profiles: string[];
  readonly kernel: string;
  readonly flavour: 'stock' | 'debug';
  readonly accel: string;
  // intercept: built without hooks, judged through dmatap (--intercept).
  readonly driver: { hash: string; variant: string | null; intercept?: boolean };
  readonly faults_injected: Record<string, number>;
  readonly reboots: number;
  readonly duration_ms: number;
  // With --shard: which slice this is, and (in --json) its audit, for dmafault merge.
  readonly shard?: Shard;
  readonly audit?: AuditReport;
}

// A summary's verdict fields from its reports (run, merge).
export function tally(reports: ProfileReport[]): Pick<RunSummary, 'cases' | 'failures' | 'errors' | 'properties'> {
  return {
    cases: reports.reduce((n, r) => n + r.cases, 0),
    failures: reports.filter((r) => !r.passed && !r.harnessError),
    errors: reports.filter((r) => r.harnessError),
    properties: reports,
  };
}

export function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

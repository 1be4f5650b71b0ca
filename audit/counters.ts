// The driver's debugfs counters as read after each case: `edu_dma/sites` (one
// "<site> <hits>" line per site) and a device's `faults/summary` (one
// "<point> <evaluated> <injected>" line per fault point), and their deltas.
// Counters restart at 0 when the module is reloaded or the guest rebooted.
import { UsageError } from '../vm/errors.js';

export type Counts = Record<string, number>;

export interface PointCounts {
  readonly evaluated: number;
  readonly injected: number;
}

export type PointSummary = Record<string, PointCounts>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function count(source: string, line: number, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new UsageError(`${source}:${line}: expected a counter (a non-negative integer below 2^53), got "${text}"`);
  }
  return value;
}

// [line number, fields] of each non-blank line, each with exactly `width` fields and a name first.
function rows(text: string, source: string, width: number, shape: string): [number, string[]][] {
  const out: [number, string[]][] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/).filter(Boolean);
    if (!fields.length) return;
    if (fields.length !== width || !NAME.test(fields[0]!)) {
      throw new UsageError(`${source}:${i + 1}: expected "${shape}", got "${raw.trim()}"`);
    }
    if (seen.has(fields[0]!)) throw new UsageError(`${source}:${i + 1}: ${fields[0]} appears twice`);
    seen.add(fields[0]!);
    out.push([i + 1, fields]);
  });
  return out;
}

// Site name -> hits, from the text of edu_dma/sites.
export function parseSiteCounts(text: string, source = 'sites'): Counts {
  return Object.fromEntries(rows(text, source, 2, '<site> <hits>').map(([line, [name, hits]]) => [name!, count(source, line, hits!)]));
}

// Point name -> counters, from the text of a device's faults/summary.
export function parsePointSummary(text: string, source = 'faults/summary'): PointSummary {
  return Object.fromEntries(
    rows(text, source, 3, '<point> <evaluated> <injected>').map(([line, [name, evaluated, injected]]) => [
      name!,
      { evaluated: count(source, line, evaluated!), injected: count(source, line, injected!) },
    ]),
  );
}

// Per key of `after`: after - before; a value below the earlier one restarted from 0, so counts as `after`.
export function delta(before: Readonly<Counts>, after: Readonly<Counts>): Counts {
  return Object.fromEntries(
    Object.entries(after).map(([key, now]) => {
      const then = Object.hasOwn(before, key) ? before[key]! : 0;
      return [key, now >= then ? now - then : now];
    }),
  );
}

// Injections per point between two summaries of the same device; a point whose
// evaluated or injected count went down restarted from 0, so counts its new injections.
export function injectedDelta(before: Readonly<PointSummary>, after: Readonly<PointSummary>): Counts {
  return Object.fromEntries(
    Object.entries(after).map(([point, now]) => {
      const then = Object.hasOwn(before, point) ? before[point]! : { evaluated: 0, injected: 0 };
      const reset = now.evaluated < then.evaluated || now.injected < then.injected;
      return [point, reset ? now.injected : now.injected - then.injected];
    }),
  );
}

// Whether any counter went down or vanished: counters that live together (one file) all restarted then.
export function wasReset(before: Readonly<Counts>, after: Readonly<Counts>): boolean {
  return Object.entries(before).some(([key, then]) => !Object.hasOwn(after, key) || after[key]! < then);
}

// One call site of the target, as dmatap's `sites` file counts it.
export interface TapSiteCounts {
  readonly fn: string;
  readonly calls: number;
  // Injections at the site by point.
  readonly points: Counts;
}

const POINT_COUNT = /^([A-Za-z_][A-Za-z0-9_]*)=(\d+)$/;

// Site ("<fn>@<caller>+0x<offset>") -> counts, from the text of dmatap's
// `sites` file: "<fn> <where> <calls> <injected> <caller>+0x<off>/0x<size> [<point>=<n>...]".
export function parseTapSites(text: string, source = 'dmatap sites'): Record<string, TapSiteCounts> {
  const out: Record<string, TapSiteCounts> = {};
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/).filter(Boolean);
    if (!fields.length) return;
    const line = i + 1;
    const sym = /^(.+\+0x[0-9a-f]+)\/0x[0-9a-f]+$/.exec(fields[4] ?? '');
    if (fields.length < 5 || !NAME.test(fields[0]!) || !sym) {
      throw new UsageError(`${source}:${line}: expected "<fn> <where> <calls> <injected> <caller>+0x<off>/0x<size> [<point>=<n>...]", got "${raw.trim()}"`);
    }
    const points: Counts = {};
    for (const extra of fields.slice(5)) {
      const m = POINT_COUNT.exec(extra);
      if (!m) throw new UsageError(`${source}:${line}: expected "<point>=<count>", got "${extra}"`);
      points[m[1]!] = count(source, line, m[2]!);
    }
    const key = `${fields[0]}@${sym[1]}`;
    if (Object.hasOwn(out, key)) throw new UsageError(`${source}:${line}: ${key} appears twice`);
    count(source, line, fields[3]!);
    out[key] = { fn: fields[0]!, calls: count(source, line, fields[2]!), points };
  });
  return out;
}

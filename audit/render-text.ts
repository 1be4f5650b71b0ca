// An audit report as a terminal table: one row per site with its hits under each
// fault point, never-reached sites flagged and listed again, then the coverage line.
import { type AuditReport, type AuditSite, NO_FAULT } from './report.js';

const NEVER = 'NEVER REACHED';
const LIST_WIDTH = 40;

// Codes to try for a point, best first: itself when short, else its initials
// (gup_partial -> gp), then the last word longer (gpa, gpar...), then the name.
function candidates(point: string): string[] {
  const parts = point.split('_').filter(Boolean);
  if (point.length <= 5 || !parts.length) return [point];
  const head = parts.slice(0, -1).map((p) => p[0]).join('');
  const last = parts.at(-1)!;
  return [...Array.from({ length: last.length }, (_, k) => head + last.slice(0, k + 1)), point];
}

// Short, unique column codes for the point names (names of up to 5 characters stay).
export function columnCodes(points: readonly string[]): Map<string, string> {
  const used = new Set(points.filter((p) => candidates(p).length === 1));
  const codes = new Map<string, string>();
  for (const point of points) {
    const code = candidates(point).length === 1 ? point : candidates(point).find((c) => !used.has(c)) ?? point;
    used.add(code);
    codes.set(point, code);
  }
  return codes;
}

// Names joined by ", " within `width` characters (at least one), the rest as "+N more".
export function abbreviateList(names: readonly string[], width = LIST_WIDTH): string {
  const shown = (k: number) => names.slice(0, k).join(', ') + (k < names.length ? ` +${names.length - k} more` : '');
  let k = names.length;
  while (k > 1 && shown(k).length > width) k--;
  return shown(k);
}

// Keys of a count record, most counted first.
const byCount = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([key]) => key);

function table(rows: string[][], rightAligned: (col: number) => boolean): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) =>
    r
      .map((cell, col) => (rightAligned(col) ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!)))
      .join('  ')
      .trimEnd(),
  );
}

// Items joined by ", " after a lead, wrapped before `width` columns, continued indented.
function wrap(lead: string, items: readonly string[], width = 100): string[] {
  const lines: string[] = [];
  let line = lead.trimEnd();
  items.forEach((item, i) => {
    const text = item + (i < items.length - 1 ? ',' : '');
    if (line.length + 1 + text.length <= width || line === lead.trimEnd()) {
      line = `${line} ${text}`;
    } else {
      lines.push(line);
      line = `  ${text}`;
    }
  });
  return [...lines, line];
}

const where = (s: Pick<AuditSite, 'file' | 'line'>) => `${s.file}:${s.line}`;

// The whole report as text, ending with "error sites reached: R/T (P%)"
// ("call sites failed: R/T (P%)" through an interceptor).
export function renderAuditText(report: AuditReport): string {
  const { environment: env, coverage } = report;
  const intercepted = report.mode === 'intercept';
  const codes = columnCodes(report.points);
  const extra = intercepted ? ['calls', 'handled'] : [];
  const header = [intercepted ? 'call site' : 'site', 'where', ...report.points.map((p) => codes.get(p)!), ...extra, 'total', 'reached by'];
  const rows = report.sites.map((s) => [
    s.name,
    where(s),
    ...report.points.map((p) => (s.byPoint[p] ? String(s.byPoint[p]) : '.')),
    ...(intercepted ? [String(s.calls ?? 0), String(s.handled ?? 0)] : []),
    String(s.hits),
    s.reached ? abbreviateList(byCount(s.byProperty)) : NEVER,
  ]);
  const numeric = (col: number) => col >= 2 && col < header.length - 1;
  const never = report.sites.filter((s) => !s.reached);
  const variant = env.driverVariant ? ` (variant ${env.driverVariant})` : '';
  const lines = [
    `dmafault audit${intercepted ? ' through dmatap' : ''}: ${report.cases} cases; profiles ${report.profiles.join(', ') || '-'}; properties ${report.properties.join(', ') || '-'}`,
    `kernel ${env.kernel}, qemu ${env.qemu}, driver ${env.driverHash.slice(0, 12)}${variant}, dmafault ${env.dmafault}, ${report.created}`,
    '',
    ...(intercepted ? ["the driver's calls of functions a fault point can fail; total: failures injected there, handled: of those, in cases that ended without a finding", ''] : []),
    ...table([header, ...rows], numeric),
    '',
    ...wrap('columns: ', report.points.map((p) => (codes.get(p) === p ? p : `${codes.get(p)} ${p}`))),
    intercepted
      ? '  (injections at the call site itself, pauses included; total counts failures only)'
      : `  (a case's hits count under every point that injected during it; ${NO_FAULT}: no fault injected)`,
  ];
  if (never.length) {
    lines.push('', `never ${intercepted ? 'failed' : 'reached'} (${never.length}):`, ...table(never.map((s) => [`  ${s.name}`, where(s), s.description]), () => false));
  }
  if (report.others?.length) {
    lines.push('', `other intercepted calls (${report.others.length}: releases and syncs, which no point fails):`);
    lines.push(...table(report.others.map((o) => [`  ${o.name}`, where(o), o.tail ? 'tail jump: not seen' : `${o.calls ?? 0} calls`]), () => false));
  }
  if (report.problems.length) lines.push('', `problems (${report.problems.length}):`, ...report.problems.map((p) => `  ${p}`));
  lines.push('', `${intercepted ? 'call sites failed' : 'error sites reached'}: ${coverage.reached}/${coverage.total} (${coverage.percent.toFixed(1)}%)`);
  return `${lines.join('\n')}\n`;
}

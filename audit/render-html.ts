// An audit report as one self-contained HTML page: inline CSS, no script, no
// external resource. A sites x fault points matrix shaded on a log scale, then the
// full table; every text from the report (site descriptions come from C) is escaped.
import { type AuditReport, type AuditSite, NO_FAULT } from './report.js';

// Text made safe for HTML content and attribute values.
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const e = escapeHtml;

// Lightness of a cell with n hits when the busiest cell has max: 95% (1 hit) down to 35% (max), on a log scale.
export function shade(n: number, max: number): number {
  const t = max > 1 ? Math.log(n) / Math.log(max) : 1;
  return Math.round(95 - 60 * Math.min(1, Math.max(0, t)));
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .3em; } h2 { font-size: 1.15em; margin: 1.6em 0 .5em; }
.env { color: #444; margin: 0; } .env b { color: #1a1a1a; font-weight: 600; }
.coverage { font-size: 1.25em; margin: .6em 0; } .coverage.low { color: #a00; }
table { border-collapse: collapse; } th, td { padding: 2px 6px; border: 1px solid #ddd; }
th { background: #f3f3f3; font-weight: 600; text-align: left; vertical-align: bottom; }
.matrix th.pt { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; padding: 6px 2px; }
.matrix td.n { text-align: right; min-width: 2.6em; font-variant-numeric: tabular-nums; }
td.zero { color: #999; background: repeating-linear-gradient(45deg, #fafafa 0 3px, #eee 3px 6px); text-align: center; }
tr.never th, tr.never td { background: #fde8e8; } tr.never td.zero { background: repeating-linear-gradient(45deg, #fde8e8 0 3px, #f6caca 3px 6px); }
.badge { display: inline-block; background: #b00; color: #fff; border-radius: 3px; padding: 0 4px; font-size: .8em; margin-left: .4em; }
code, .mono { font-family: ui-monospace, monospace; font-size: .95em; }
.full td { vertical-align: top; } .full td.desc { max-width: 36em; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 2px; border: 1px solid #ddd; }
.problems li { color: #a00; }
`;

function cell(site: AuditSite, point: string, max: number): string {
  const n = site.byPoint[point] ?? 0;
  const label = point === NO_FAULT ? 'no fault injected' : point;
  if (!n) return `<td class="n zero" title="${e(`${site.name}, ${label}: 0 hits`)}">0</td>`;
  const light = shade(n, max);
  const ink = light < 60 ? '#fff' : '#000';
  return `<td class="n" style="background: hsl(212, 70%, ${light}%); color: ${ink}" title="${e(`${site.name}, ${label}: ${n} hits`)}">${n}</td>`;
}

const counted = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${e(k)}&nbsp;(${n})`)
    .join(', ') || '&ndash;';

const never = '<span class="badge">never reached</span>';

function matrix(report: AuditReport): string {
  const max = Math.max(0, ...report.sites.flatMap((s) => report.points.map((p) => s.byPoint[p] ?? 0)));
  const head = report.points.map((p) => `<th class="pt" scope="col">${e(p === NO_FAULT ? `${NO_FAULT} (no fault)` : p)}</th>`).join('');
  const rows = report.sites.map((s) => {
    const cls = s.reached ? '' : ' class="never"';
    const cells = report.points.map((p) => cell(s, p, max)).join('');
    return `<tr${cls}><th scope="row"><code>${e(s.name)}</code>${s.reached ? '' : never}</th>${cells}<td class="n">${s.hits}</td></tr>`;
  });
  const steps = [1, 10, 100, 1000, 10000].filter((n) => n < max);
  const legend = [...steps, max]
    .filter((n) => n > 0)
    .map((n) => `<span style="background: hsl(212, 70%, ${shade(n, max)}%); color: ${shade(n, max) < 60 ? '#fff' : '#000'}">${n}</span>`)
    .join('');
  return [
    `<table class="matrix"><thead><tr><th scope="col">site</th>${head}<th class="pt" scope="col">total</th></tr></thead>`,
    `<tbody>${rows.join('\n')}</tbody></table>`,
    `<p class="legend">hits (log scale): <span class="zero">0</span>${legend}. A case's hits count under every fault point that injected during it; <code>${NO_FAULT}</code>: cases without injection.</p>`,
  ].join('\n');
}

function fullTable(report: AuditReport): string {
  const intercepted = report.mode === 'intercept';
  const rows = report.sites.map((s) => {
    const cls = s.reached ? '' : ' class="never"';
    const calls = intercepted ? `<td>${s.calls ?? 0}</td><td>${s.handled ?? 0}</td>` : '';
    return `<tr${cls}><td><code>${e(s.name)}</code>${s.reached ? '' : never}</td><td class="desc">${e(s.description)}</td><td class="mono">${e(`${s.file}:${s.line}`)}</td>${calls}<td>${s.hits}</td><td>${s.cases}</td><td>${counted(s.byProperty)}</td><td>${counted(s.byProfile)}</td></tr>`;
  });
  const head = intercepted ? '<th>call site</th><th>function (points)</th><th>where</th><th>calls</th><th>handled</th><th>failures</th>' : '<th>site</th><th>description</th><th>where</th><th>hits</th>';
  return `<table class="full"><thead><tr>${head}<th>cases</th><th>properties</th><th>profiles</th></tr></thead>\n<tbody>${rows.join('\n')}</tbody></table>`;
}

// Intercept mode: the call sites of functions no point fails.
function othersTable(report: AuditReport): string {
  if (!report.others?.length) return '';
  const rows = report.others.map((o) => `<tr><td><code>${e(o.name)}</code></td><td class="mono">${e(`${o.file}:${o.line}`)}</td><td>${o.tail ? 'tail jump: not seen' : (o.calls ?? 0)}</td></tr>`);
  return `<h2>Other intercepted calls (releases, syncs)</h2>\n<table class="full"><thead><tr><th>call site</th><th>where</th><th>calls</th></tr></thead>\n<tbody>${rows.join('\n')}</tbody></table>`;
}

// The report as a complete HTML document.
export function renderAuditHtml(report: AuditReport): string {
  const { environment: env, coverage } = report;
  const missed = report.sites.filter((s) => !s.reached);
  const envRow = [
    ['kernel', env.kernel],
    ['qemu', env.qemu],
    ['driver', env.driverHash],
    ['variant', env.driverVariant ?? 'reference'],
    ['dmafault', env.dmafault],
    ['created', report.created],
  ]
    .map(([k, v]) => `${k} <b>${e(v!)}</b>`)
    .join(' &middot; ');
  const intercepted = report.mode === 'intercept';
  const what = intercepted ? 'call sites failed' : 'error sites reached';
  const covText = `${what}: ${coverage.reached}/${coverage.total} (${coverage.percent.toFixed(1)}%)`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`dmafault audit: ${coverage.reached}/${coverage.total} ${what}`)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>dmafault audit: error-path coverage of the driver${intercepted ? ', through dmatap' : ''}</h1>
<p class="env">${envRow}</p>
<p class="env">${report.cases} cases &middot; profiles <b>${e(report.profiles.join(', ') || '-')}</b> &middot; properties <b>${e(report.properties.join(', ') || '-')}</b></p>
<p class="coverage${missed.length ? ' low' : ''}">${e(covText)}</p>
${missed.length ? `<p>Never reached: ${missed.map((s) => `<code>${e(s.name)}</code>`).join(', ')}</p>` : ''}
${report.problems.length ? `<h2>Problems</h2>\n<ul class="problems">${report.problems.map((p) => `<li>${e(p)}</li>`).join('\n')}</ul>` : ''}
<h2>Sites &times; fault points</h2>
${matrix(report)}
<h2>All sites</h2>
${fullTable(report)}
${othersTable(report)}
</body>
</html>
`;
}

import { describe, expect, it } from 'vitest';
import { AuditCollector } from '../../audit/collector.js';
import { escapeHtml, renderAuditHtml, shade } from '../../audit/render-html.js';
import { abbreviateList, columnCodes, renderAuditText } from '../../audit/render-text.js';

const environment = { kernel: '6.1.0-56-amd64', qemu: '7.2.22', driverHash: '0123456789abcdef', driverVariant: null, dmafault: '0.1.0' };

function sample() {
  const c = new AuditCollector({
    sites: [
      { name: 'xfer_bad_flags', description: 'XFER: flags <script>alert("x")</script> & more', file: 'driver/edu_core.c', line: 120 },
      { name: 'pin_err_release', description: "pin: unwind after a failed pin (it's <1 page)", file: 'driver/edu_zerocopy.c', line: 88 },
      { name: 'map_err_unpin', description: 'map: unwind', file: 'driver/edu_sites.h', line: 9 },
    ],
    problems: ['site map_err_unpin (driver/edu_sites.h:9) is marked nowhere: expected one edu_site(map_err_unpin) in the driver'],
  });
  for (const property of ['badinput', 'lifecycle', 'roundtrip', 'writeback_stress']) {
    c.add({ property, profile: 'direct', injected: {}, sites: { xfer_bad_flags: 1 } });
  }
  c.add({ property: 'faults', profile: 'iommu', injected: { gup_fail: 1, coherent_alloc_fail: 1 }, sites: { pin_err_release: 1000 } });
  c.add({ property: 'faults', profile: 'swiotlb', injected: { gup_partial: 1 }, sites: { pin_err_release: 7 } });
  return c.report({ environment, created: '2026-11-21T00:00:00.000Z' });
}

describe('text rendering', () => {
  const text = renderAuditText(sample());
  const lines = text.split('\n');

  it('has one row per site with hits per point column and the properties that reached it', () => {
    const row = lines.find((l) => l.startsWith('pin_err_release'))!;
    expect(row).toMatch(/^pin_err_release\s+driver\/edu_zerocopy\.c:88\s+7\s+1000\s+\.\s+\.\s+1000\s+\.\s+\.\s+\.\s+\.\s+\.\s+\.\s+\.\s+1007\s+faults$/);
    const header = lines.find((l) => l.startsWith('site'))!;
    expect(header).toMatch(/^site\s+where\s+gp\s+gf\s+saf\s+dmf\s+caf\s+dt\s+p\s+w\s+s\s+kf\s+il\s+none\s+total\s+reached by$/);
    expect(text).toContain('columns: gp gup_partial, gf gup_fail, saf sg_alloc_fail');
    expect(text).toMatch(/\n  dt dma_timeout, p pageout, w writeback, s signal, kf kmalloc_fail, il irq_late, none\n/);
  });

  it('abbreviates long property lists', () => {
    const row = lines.find((l) => l.startsWith('xfer_bad_flags'))!;
    expect(row).toMatch(/badinput, lifecycle, roundtrip \+1 more$/);
    expect(abbreviateList(['a', 'b', 'c'], 32)).toBe('a, b, c');
    expect(abbreviateList(['a_very_long_property_name_indeed_yes', 'b'], 10)).toBe('a_very_long_property_name_indeed_yes +1 more');
  });

  it('flags never-reached sites in the table and lists them again, then the coverage line', () => {
    expect(lines.find((l) => l.startsWith('map_err_unpin'))).toMatch(/driver\/edu_sites\.h:9 .* 0\s+NEVER REACHED$/);
    const list = lines.indexOf('never reached (1):');
    expect(list).toBeGreaterThan(0);
    expect(lines[list + 1]).toMatch(/^ {2}map_err_unpin\s+driver\/edu_sites\.h:9\s+map: unwind$/);
    expect(text).toContain('problems (1):\n  site map_err_unpin');
    expect(lines.at(-2)).toBe('error sites reached: 2/3 (66.6%)');
  });

  it('keeps lines readable', () => {
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(160);
  });

  it('gives short unique column codes', () => {
    expect([...columnCodes(['gup_partial', 'gup_fail', 'gup_fast', 'pageout', 'none', 'p']).values()]).toEqual(['gp', 'gf', 'gfa', 'pa', 'none', 'p']);
  });
});

describe('HTML rendering', () => {
  const html = renderAuditHtml(sample());

  it('is one self-contained document', () => {
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toMatch(/<\/html>\n$/);
    expect(html).not.toMatch(/\b(src|href|srcset|action)\s*=/i);
    expect(html).not.toMatch(/url\(|@import|https?:|\/\//i);
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
  });

  it('escapes every text from the report', () => {
    expect(html).toContain('XFER: flags &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('pin: unwind after a failed pin (it&#39;s &lt;1 page)');
    expect(html).not.toContain('<script>alert');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('shows environment, coverage, a shaded matrix and the never-reached rows', () => {
    expect(html).toContain('error sites reached: 2/3 (66.6%)');
    expect(html).toContain('kernel <b>6.1.0-56-amd64</b>');
    expect(html).toContain('<tr class="never"><th scope="row"><code>map_err_unpin</code><span class="badge">never reached</span>');
    expect(html).toMatch(/<td class="n" style="background: hsl\(212, 70%, 35%\)[^>]*>1000<\/td>/);
    expect(html).toMatch(/<td class="n zero" title="pin_err_release, pageout: 0 hits">0<\/td>/);
    expect(html).toContain('<td class="mono">driver/edu_core.c:120</td>');
    expect(html).toContain('faults&nbsp;(1007)');
    expect(html).toContain('iommu&nbsp;(1000), swiotlb&nbsp;(7)');
  });

  it('shades on a log scale', () => {
    expect(shade(1, 1000)).toBe(95);
    expect(shade(1000, 1000)).toBe(35);
    expect(shade(31, 1000)).toBe(65);
    expect(shade(1, 1)).toBe(35);
  });
});

// The error-path audit without annotations: through dmatap, the suite on the
// driver built without hooks lists every call the driver's code makes to an
// intercepted function (read from the built module), fails each call of a
// function a fault point can fail at least once, and every failure ends
// without a finding.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { parseAuditReport } from '../../audit/report.js';
import { tempDir } from '../temp-dirs.js';

const bin = new URL('../../bin/dmafault.js', import.meta.url).pathname;

// The calls of the reference driver that a point can fail, by function.
const FALLIBLE = ['dma_alloc_attrs', 'dma_map_sgtable', 'kmalloc_trace', 'kvmalloc_node', 'pin_user_pages_fast', 'sg_alloc_table_from_pages_segment', 'wait_for_completion_timeout'];

it('lists and fails every intercepted call site of the driver built without hooks', async () => {
  const out = tempDir('dmafault-audit-intercept-');
  const result = await execa('node', [bin, 'audit', '--intercept', '--profile', 'direct', '--jobs', '2', '--out', out, '--fail-under', '100'], { reject: false });
  expect(result.exitCode, `${result.stdout.slice(-4000)}\n${result.stderr.slice(-3000)}`).toBe(0);
  const report = parseAuditReport(await readFile(join(out, 'audit.json'), 'utf8'));
  expect(report.mode).toBe('intercept');
  expect(report.problems).toEqual([]);
  expect([...new Set(report.sites.map((s) => s.name.split('@')[0]))].sort()).toEqual(FALLIBLE);
  for (const site of report.sites) {
    expect(site.file, site.name).toMatch(/^edu_\w+\.c$/);
    expect(site.calls, site.name).toBeGreaterThanOrEqual(site.hits);
    expect(site.handled, site.name).toBe(site.hits);
  }
  expect(report.coverage.percent).toBe(100);
  // The releases, syncs and pci_dev references are listed with their calls; the kernel's own calls of remove hide only its tail jump.
  const others = report.others ?? [];
  for (const fn of ['kfree', 'kvfree', 'unpin_user_pages_dirty_lock', 'sg_free_table', 'dma_unmap_sg_attrs', 'dma_sync_sg_for_cpu', 'dma_free_attrs', 'dma_mmap_attrs', 'pci_dev_get', 'pci_dev_put', 'pci_get_device']) {
    expect(others.some((o) => o.fn === fn && (o.calls ?? 0) > 0), fn).toBe(true);
  }
  expect(result.stdout).toMatch(/call sites failed: (\d+)\/\1 \(100\.0%\)/);
});

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blankComments } from '../../audit/c-text.js';
import { findSiteUses, lintSites, locateSites, parseSiteList } from '../../audit/site-list.js';
import { UsageError } from '../../vm/errors.js';
import { tempDir } from '../temp-dirs.js';

const header = `/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every error-handling site: EDU_SITE(name, "what went wrong there").
 */

EDU_SITE(xfer_bad_flags, "XFER: flags is neither TO_DEVICE nor FROM_DEVICE")
/* EDU_SITE(old_site, "commented out") */
EDU_SITE(pin_err_release, "pin: unwind after a failed pin")
	EDU_SITE(map_err, "map: \\"dma_map_sgtable\\" < 0 " "(unwind)")
`;

describe('parseSiteList', () => {
  it('reads the list entries with their lines, skipping comments and joining literals', () => {
    expect(parseSiteList(header)).toEqual([
      { name: 'xfer_bad_flags', description: 'XFER: flags is neither TO_DEVICE nor FROM_DEVICE', line: 6 },
      { name: 'pin_err_release', description: 'pin: unwind after a failed pin', line: 8 },
      { name: 'map_err', description: 'map: "dma_map_sgtable" < 0 (unwind)', line: 9 },
    ]);
  });

  it('accepts CRLF lines', () => {
    const text = 'EDU_SITE(a, "first")\r\nEDU_SITE(b, "second")\r\n';
    expect(parseSiteList(text).map((s) => s.name)).toEqual(['a', 'b']);
  });

  it.each([
    ['', /edu_sites\.h: lists no site/],
    ['/* EDU_SITE(a, "b") */\n', /edu_sites\.h: lists no site/],
    ['#define EDU_SITES(X) X(a, "b")\n', /edu_sites\.h:1: expected EDU_SITE\(name, "description"\), got: #define/],
    ['EDU_SITE(a, "ok")\nEDU_SITE(b, no quotes)\nEDU_SITE(c, "ok")\n', /edu_sites\.h:2: expected EDU_SITE\(name, "description"\), got: EDU_SITE\(b, no quotes\)/],
    ['EDU_SITE(a, "ok")\nX(b, "wrong macro")\n', /edu_sites\.h:2: expected EDU_SITE\(name, "description"\)/],
    ['EDU_SITE(a, "ok") EDU_SITE(b, "two on a line")\n', /edu_sites\.h:1: expected/],
    ['EDU_SITE(2bad, "name")\n', /edu_sites\.h:1: expected/],
    ['EDU_SITE(a, "")\n', /edu_sites\.h:1: site a has an empty description/],
    ['EDU_SITE(a, "one")\nEDU_SITE(a, "two")\n', /edu_sites\.h:2: site a is listed twice \(first at line 1\)/],
  ])('refuses %j', (text, message) => {
    expect(() => parseSiteList(text)).toThrow(UsageError);
    expect(() => parseSiteList(text)).toThrow(message);
  });
});

describe('finding edu_site() marks', () => {
  it('keeps line numbers when blanking comments and literals', () => {
    const text = 'a /* x\ny */ b "s//t" // c\nd';
    expect(blankComments(text)).toBe('a     \n     b "s//t"     \nd');
    expect(blankComments(text, { literals: true })).toBe('a     \n     b            \nd');
  });

  it('finds uses outside comments, strings and #define bodies', () => {
    const c = [
      '#define edu_site(name) \\',
      '\tedu_site_hit(EDU_SITE_##name, edu_site(name))',
      'static int f(void)',
      '{',
      '\t/* edu_site(in_comment) */',
      '\tpr_debug("edu_site(in_string)");',
      '\tif (bad) {',
      '\t\tedu_site( xfer_bad_flags );',
      '\t\treturn -EINVAL;',
      '\t}',
      '}',
    ].join('\n');
    expect(findSiteUses(c, 'driver/edu_core.c')).toEqual([{ name: 'xfer_bad_flags', file: 'driver/edu_core.c', line: 8 }]);
  });

  it('reports sites marked nowhere, twice, and marks of undeclared names', () => {
    const decls = parseSiteList(header);
    const uses = [
      { name: 'xfer_bad_flags', file: 'driver/a.c', line: 3 },
      { name: 'pin_err_release', file: 'driver/a.c', line: 9 },
      { name: 'pin_err_release', file: 'driver/b.c', line: 4 },
      { name: 'typo_site', file: 'driver/b.c', line: 7 },
    ];
    const { sites, problems } = lintSites(decls, uses, 'driver/edu_sites.h');
    expect(sites).toEqual([
      { name: 'xfer_bad_flags', description: decls[0]!.description, file: 'driver/a.c', line: 3 },
      { name: 'pin_err_release', description: decls[1]!.description, file: 'driver/a.c', line: 9 },
      { name: 'map_err', description: decls[2]!.description, file: 'driver/edu_sites.h', line: 9 },
    ]);
    expect(problems).toEqual([
      'site pin_err_release is marked 2 times (driver/a.c:9, driver/b.c:4): expected exactly one edu_site(pin_err_release)',
      'site map_err (driver/edu_sites.h:9) is marked nowhere: expected one edu_site(map_err) in the driver',
      'driver/b.c:7: edu_site(typo_site) names no site of driver/edu_sites.h: declare it in driver/edu_sites.h or fix the name',
    ]);
  });
});

describe('locateSites', () => {
  async function driver(files: Record<string, string>): Promise<string> {
    const dir = tempDir('dmafault-audit-');
    await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(dir, name), text)));
    return dir;
  }

  it('reads the header and the marks of every source file', async () => {
    const dir = await driver({
      'edu_sites.h': header,
      'edu_core.c': 'int a(void)\n{\n\tedu_site(xfer_bad_flags);\n}\n',
      'edu_zerocopy.c': '\n\nvoid b(void)\n{\n\tedu_site(pin_err_release);\n\tedu_site(map_err);\n}\n',
      'notes.txt': 'edu_site(ignored)',
    });
    const located = await locateSites(dir, 'driver');
    expect(located.problems).toEqual([]);
    expect(located.sites.map((s) => `${s.name} ${s.file}:${s.line}`)).toEqual([
      'xfer_bad_flags driver/edu_core.c:3',
      'pin_err_release driver/edu_zerocopy.c:5',
      'map_err driver/edu_zerocopy.c:6',
    ]);
  });

  it('says which file is missing', async () => {
    const dir = await driver({ 'edu_core.c': '' });
    await expect(locateSites(dir, 'driver')).rejects.toThrow(/cannot read driver\/edu_sites\.h: .*ENOENT.*expected the EDU_SITE\(\) list/);
  });

  it('names the header and line of a malformed list', async () => {
    const dir = await driver({ 'edu_sites.h': '/* list */\nEDU_SITE(a b)\n' });
    await expect(locateSites(dir, 'driver')).rejects.toThrow('driver/edu_sites.h:2: expected EDU_SITE(name, "description"), got: EDU_SITE(a b)');
  });
});

describe('the driver itself', () => {
  it('declares every error site once and marks each exactly once', async () => {
    const located = await locateSites(new URL('../../driver', import.meta.url).pathname, 'driver');
    expect(located.problems).toEqual([]);
    expect(located.sites.length).toBeGreaterThanOrEqual(40);
  });
});

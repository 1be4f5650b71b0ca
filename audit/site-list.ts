// The driver's error-handling sites: declared once in driver/edu_sites.h by the
// EDU_SITE() list, each marked in the driver's sources by `edu_site(<name>)`.
// parseSiteList() reads the declarations; locateSites() finds each site's mark and
// returns, besides the sites, every inconsistency between the two as a problem.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UsageError } from '../vm/errors.js';
import { blankComments } from './c-text.js';

export const SITES_HEADER = 'edu_sites.h';

// One EDU_SITE(name, "description") entry of the list; `line` is its line in the header.
export interface SiteDecl {
  readonly name: string;
  readonly description: string;
  readonly line: number;
}

// One `edu_site(name)` in a source file.
export interface SiteUse {
  readonly name: string;
  readonly file: string;
  readonly line: number;
}

// A declared site and where it is marked (its declaration when it is marked nowhere).
export interface SiteInfo {
  readonly name: string;
  readonly description: string;
  readonly file: string;
  readonly line: number;
}

export interface SiteLocations {
  readonly sites: SiteInfo[];
  // Sites marked nowhere or more than once, marks of undeclared names.
  readonly problems: string[];
}

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const ENTRY = new RegExp(`^EDU_SITE\\(\\s*(${IDENT})\\s*,\\s*(.*)\\)$`);
const STRINGS = /^(?:"(?:[^"\\\n]|\\.)*"\s*)+$/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', '"': '"', "'": "'", '\\': '\\' };

// The text of adjacent C string literals ("a" "b"), escapes resolved.
function unquote(literals: string): string {
  return [...literals.matchAll(/"((?:[^"\\]|\\.)*)"/g)]
    .map((m) => m[1]!.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c))
    .join('');
}

// The entries of the list header (one EDU_SITE(name, "description") per line,
// nothing else outside comments), in order; a UsageError names the line of anything malformed.
export function parseSiteList(headerText: string, source = SITES_HEADER): SiteDecl[] {
  const lines = blankComments(headerText).split('\n').map((l) => l.replace(/\r$/, ''));
  const decls: SiteDecl[] = [];
  lines.forEach((raw, i) => {
    const text = raw.trim();
    if (!text) return;
    const line = i + 1;
    const m = ENTRY.exec(text);
    if (!m || !STRINGS.test(m[2]!.trim())) {
      throw new UsageError(`${source}:${line}: expected EDU_SITE(name, "description"), got: ${text}`);
    }
    const [, name, literals] = m as unknown as [string, string, string];
    const description = unquote(literals);
    if (!description) throw new UsageError(`${source}:${line}: site ${name} has an empty description`);
    const first = decls.find((d) => d.name === name);
    if (first) throw new UsageError(`${source}:${line}: site ${name} is listed twice (first at line ${first.line})`);
    decls.push({ name, description, line });
  });
  if (!decls.length) {
    throw new UsageError(`${source}: lists no site; expected one EDU_SITE(name, "description") per line`);
  }
  return decls;
}

// Every `edu_site(name)` of a C file, outside comments, literals and #define bodies.
export function findSiteUses(sourceText: string, file: string): SiteUse[] {
  const uses: SiteUse[] = [];
  let inDefine = false;
  blankComments(sourceText, { literals: true })
    .split('\n')
    .forEach((text, i) => {
      inDefine = inDefine || /^\s*#\s*define\b/.test(text);
      if (!inDefine) {
        for (const m of text.matchAll(new RegExp(`\\bedu_site\\s*\\(\\s*(${IDENT})\\s*\\)`, 'g'))) {
          uses.push({ name: m[1]!, file, line: i + 1 });
        }
      }
      inDefine = inDefine && /\\\s*$/.test(text);
    });
  return uses;
}

const where = (u: { file: string; line: number }) => `${u.file}:${u.line}`;

// Joins declarations and uses: each declared site must be marked exactly once, and only declared names marked.
export function lintSites(decls: readonly SiteDecl[], uses: readonly SiteUse[], header = SITES_HEADER): SiteLocations {
  const problems: string[] = [];
  const sites = decls.map((d): SiteInfo => {
    const mine = uses.filter((u) => u.name === d.name);
    if (!mine.length) {
      problems.push(`site ${d.name} (${header}:${d.line}) is marked nowhere: expected one edu_site(${d.name}) in the driver`);
      return { name: d.name, description: d.description, file: header, line: d.line };
    }
    if (mine.length > 1) {
      problems.push(`site ${d.name} is marked ${mine.length} times (${mine.map(where).join(', ')}): expected exactly one edu_site(${d.name})`);
    }
    return { name: d.name, description: d.description, file: mine[0]!.file, line: mine[0]!.line };
  });
  for (const u of uses.filter((u) => !decls.some((d) => d.name === u.name))) {
    problems.push(`${where(u)}: edu_site(${u.name}) names no site of ${header}: declare it in ${header} or fix the name`);
  }
  return { sites, problems };
}

async function readSource(file: string, label: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${label}: ${(err as Error).message}; expected the EDU_SITE() list of error sites`, { cause: err });
  }
}

// Reads <driverDir>/edu_sites.h and the marks in <driverDir>/*.c and *.h; files are
// named "<label>/<file>" (label: the directory's name unless given, e.g. "driver").
export async function locateSites(driverDir: string, label = basename(driverDir)): Promise<SiteLocations> {
  const header = `${label}/${SITES_HEADER}`;
  const decls = parseSiteList(await readSource(join(driverDir, SITES_HEADER), header), header);
  const files = (await readdir(driverDir)).filter((f) => /\.[ch]$/.test(f) && f !== SITES_HEADER).sort();
  const texts = await Promise.all(files.map((f) => readFile(join(driverDir, f), 'utf8')));
  const uses = files.flatMap((f, i) => findSiteUses(texts[i]!, `${label}/${f}`));
  return lintSites(decls, uses, header);
}

// Gathers the per-case counter deltas of a suite run into an AuditReport. A case's
// site hits count towards every fault point that injected during the case, or
// towards NO_FAULT ("none") when none did: bad input, lifecycle, outside signals.
import { pointNames } from '../faults/points.js';
import { type AuditEnvironment, type AuditReport, type AuditSite, AUDIT_FORMAT, AUDIT_VERSION, coverageOf, NO_FAULT } from './report.js';
import type { SiteLocations } from './site-list.js';

// What one test case did: injections per fault point and hits per site, both deltas.
export interface CaseSample {
  readonly property: string;
  readonly profile: string;
  readonly injected: Readonly<Record<string, number>>;
  readonly sites: Readonly<Record<string, number>>;
}

export interface AuditMeta {
  readonly environment: AuditEnvironment;
  // ISO time; now unless given.
  readonly created?: string;
}

interface Tally {
  hits: number;
  cases: number;
  byPoint: Map<string, number>;
  byProperty: Map<string, number>;
  byProfile: Map<string, number>;
}

const bump = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);

function checkCounts(where: string, counts: Readonly<Record<string, number>>): [string, number][] {
  const entries = Object.entries(counts);
  for (const [key, n] of entries) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`audit sample: ${where}.${key}: expected a non-negative integer, got ${n}`);
  }
  return entries.filter(([, n]) => n > 0);
}

export class AuditCollector {
  private readonly tallies = new Map<string, Tally>();
  private readonly points: string[];
  private readonly profiles = new Set<string>();
  private readonly properties = new Set<string>();
  // Hits of sites the driver counts but edu_sites.h does not declare.
  private readonly undeclared = new Map<string, number>();
  private cases = 0;

  // sites: from locateSites(); points: the fault point columns, before NO_FAULT.
  constructor(
    private readonly located: SiteLocations,
    points: readonly string[] = pointNames,
  ) {
    this.points = points.filter((p) => p !== NO_FAULT);
    for (const site of located.sites) {
      this.tallies.set(site.name, { hits: 0, cases: 0, byPoint: new Map(), byProperty: new Map(), byProfile: new Map() });
    }
  }

  // Adds one case; throws a RangeError on a negative or fractional count.
  add(sample: CaseSample): void {
    const injected = checkCounts('injected', sample.injected).map(([point]) => point);
    if (injected.includes(NO_FAULT)) throw new RangeError(`audit sample: injected.${NO_FAULT}: "${NO_FAULT}" is not a fault point`);
    const hits = checkCounts('sites', sample.sites);
    this.cases++;
    this.profiles.add(sample.profile);
    this.properties.add(sample.property);
    for (const point of injected) if (!this.points.includes(point)) this.points.push(point);
    const columns = injected.length ? injected : [NO_FAULT];
    for (const [site, n] of hits) {
      const t = this.tallies.get(site);
      if (!t) {
        bump(this.undeclared, site, n);
        continue;
      }
      t.hits += n;
      t.cases++;
      for (const column of columns) bump(t.byPoint, column, n);
      bump(t.byProperty, sample.property, n);
      bump(t.byProfile, sample.profile, n);
    }
  }

  // The report of every case added so far.
  report(meta: AuditMeta): AuditReport {
    const points = [...this.points, NO_FAULT];
    const sites = this.located.sites.map((site): AuditSite => {
      const t = this.tallies.get(site.name)!;
      return {
        name: site.name,
        description: site.description,
        file: site.file,
        line: site.line,
        hits: t.hits,
        reached: t.hits > 0,
        byPoint: Object.fromEntries(points.map((p) => [p, t.byPoint.get(p) ?? 0])),
        byProperty: Object.fromEntries(t.byProperty),
        byProfile: Object.fromEntries(t.byProfile),
        cases: t.cases,
      };
    });
    const undeclared = [...this.undeclared].map(
      ([name, n]) => `the driver counted ${n} hits of site ${name}, which edu_sites.h does not declare: is the built driver older than its sources?`,
    );
    return {
      format: AUDIT_FORMAT,
      version: AUDIT_VERSION,
      created: meta.created ?? new Date().toISOString(),
      environment: { ...meta.environment },
      profiles: [...this.profiles],
      properties: [...this.properties],
      points,
      cases: this.cases,
      sites,
      coverage: coverageOf(sites),
      problems: [...this.located.problems, ...undeclared],
    };
  }
}

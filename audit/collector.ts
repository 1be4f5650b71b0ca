// Gathers the per-case counter deltas of a suite run into an AuditReport. A case's
// site hits count towards every fault point that injected during the case, or
// towards NO_FAULT ("none") when none did: bad input, lifecycle, outside signals.
import { pointNames } from '../faults/points.js';
import {
  type AuditEnvironment, type AuditReport, type AuditSite, AUDIT_FORMAT, AUDIT_VERSION, coverageOf, NO_FAULT, type OtherCallSite } from './report.js';
import { keyedIn, profileOrder, propertyOrder } from './order.js';
import type { SiteLocations } from './site-list.js';

// What one test case did: injections per fault point and hits per site, both deltas.
export interface CaseSample {
  readonly property: string;
  readonly profile: string;
  readonly injected: Readonly<Record<string, number>>;
  readonly sites: Readonly<Record<string, number>>;
  // Through an interceptor, which counts injections per call site: each site's
  // injections by point (these replace the case-level attribution), the calls
  // of every call site, and the interceptor's new findings during the case.
  readonly sitePoints?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly calls?: Readonly<Record<string, number>>;
  readonly findings?: number;
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
  calls: number;
  // Injections in cases that ended without a new finding.
  handled: number;
}

const sumCounts = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
  Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, (a[k] ?? 0) + (b[k] ?? 0)]));

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

  // Calls of the call sites that are not error sites (intercept mode).
  private readonly otherCalls = new Map<string, number>();
  private intercepted = false;

  // sites: from locateSites() or interceptedSites(); points: the fault point
  // columns, before NO_FAULT; others: call sites that cannot fail (intercept mode).
  constructor(
    private readonly located: SiteLocations,
    points: readonly string[] = pointNames,
    private readonly others: readonly OtherCallSite[] = [],
    // What the interceptor calls a tail jump's site -> the site's name.
    private readonly aliases: ReadonlyMap<string, string> = new Map(),
  ) {
    this.points = points.filter((p) => p !== NO_FAULT);
    for (const site of located.sites) {
      this.tallies.set(site.name, { hits: 0, cases: 0, byPoint: new Map(), byProperty: new Map(), byProfile: new Map(), calls: 0, handled: 0 });
    }
    for (const site of others) this.otherCalls.set(site.name, 0);
  }

  // Counts keyed by site name, the interceptor's names of tail jumps resolved.
  private named<T>(counts: Readonly<Record<string, T>>, merge: (a: T, b: T) => T): Record<string, T> {
    const out: Record<string, T> = {};
    for (const [key, value] of Object.entries(counts)) {
      const name = this.aliases.get(key) ?? key;
      out[name] = Object.hasOwn(out, name) ? merge(out[name]!, value) : value;
    }
    return out;
  }

  // Adds one case; throws a RangeError on a negative or fractional count.
  add(given: CaseSample): void {
    const sum = (a: number, b: number) => a + b;
    const sample: CaseSample = this.aliases.size
      ? {
          ...given,
          sites: this.named(given.sites, sum),
          ...(given.sitePoints ? { sitePoints: this.named(given.sitePoints, sumCounts) } : {}),
          ...(given.calls ? { calls: this.named(given.calls, sum) } : {}),
        }
      : given;
    const injected = checkCounts('injected', sample.injected).map(([point]) => point);
    if (injected.includes(NO_FAULT)) throw new RangeError(`audit sample: injected.${NO_FAULT}: "${NO_FAULT}" is not a fault point`);
    const hits = checkCounts('sites', sample.sites);
    this.cases++;
    this.profiles.add(sample.profile);
    this.properties.add(sample.property);
    for (const point of injected) if (!this.points.includes(point)) this.points.push(point);
    const columns = injected.length ? injected : [NO_FAULT];
    const perSite = sample.sitePoints;
    for (const [site, n] of hits) {
      const t = this.tallies.get(site);
      if (!t) {
        bump(this.undeclared, site, n);
        continue;
      }
      t.hits += n;
      t.cases++;
      if (!perSite) for (const column of columns) bump(t.byPoint, column, n);
      if (sample.findings === 0) t.handled += n;
      bump(t.byProperty, sample.property, n);
      bump(t.byProfile, sample.profile, n);
    }
    if (perSite) this.addSitePoints(perSite);
    if (sample.calls) this.addCalls(checkCounts('calls', sample.calls));
  }

  private addSitePoints(perSite: Readonly<Record<string, Readonly<Record<string, number>>>>): void {
    this.intercepted = true;
    for (const [site, byPoint] of Object.entries(perSite)) {
      const t = this.tallies.get(site);
      for (const [point, n] of checkCounts(`sitePoints.${site}`, byPoint)) {
        if (point === NO_FAULT) throw new RangeError(`audit sample: sitePoints.${site}.${NO_FAULT}: "${NO_FAULT}" is not a fault point`);
        if (!this.points.includes(point)) this.points.push(point);
        if (t) bump(t.byPoint, point, n);
      }
    }
  }

  private addCalls(calls: [string, number][]): void {
    this.intercepted = true;
    for (const [site, n] of calls) {
      const t = this.tallies.get(site);
      if (t) t.calls += n;
      else if (this.otherCalls.has(site)) bump(this.otherCalls, site, n);
      else bump(this.undeclared, site, n);
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
        byProperty: keyedIn(Object.fromEntries(t.byProperty), propertyOrder),
        byProfile: keyedIn(Object.fromEntries(t.byProfile), profileOrder),
        cases: t.cases,
        ...(this.intercepted ? { calls: t.calls, handled: t.handled } : {}),
      };
    });
    const undeclared = [...this.undeclared].map(([name, n]) =>
      this.intercepted
        ? `the interceptor counted ${n} calls or injections at ${name}, a call site the module's code does not have: is the built module older than the one loaded?`
        : `the driver counted ${n} hits of site ${name}, which edu_sites.h does not declare: is the built driver older than its sources?`,
    );
    return {
      format: AUDIT_FORMAT,
      version: AUDIT_VERSION,
      created: meta.created ?? new Date().toISOString(),
      environment: { ...meta.environment },
      profiles: profileOrder(this.profiles),
      properties: propertyOrder(this.properties),
      points,
      cases: this.cases,
      sites,
      coverage: coverageOf(sites),
      problems: [...this.located.problems, ...undeclared],
      ...(this.intercepted || this.others.length ? { mode: 'intercept' as const, others: this.others.map((o) => ({ ...o, calls: this.otherCalls.get(o.name) ?? 0 })) } : {}),
    };
  }
}

// One order for a report's profiles and properties, whatever order the cases of
// a parallel run finished in: profiles as the profile table lists them (names it
// does not know after, by name), properties by name.
import { profileNames } from '../vm/qemu/profiles.js';

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function profileOrder(names: Iterable<string>): string[] {
  const known = profileNames();
  const rank = (name: string) => {
    const i = known.indexOf(name);
    return i < 0 ? known.length : i;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || byName(a, b));
}

export function propertyOrder(names: Iterable<string>): string[] {
  return [...new Set(names)].sort(byName);
}

// A record of counts with its keys in the order `order` gives them.
export function keyedIn(record: Readonly<Record<string, number>>, order: (names: Iterable<string>) => string[]): Record<string, number> {
  return Object.fromEntries(order(Object.keys(record)).map((k) => [k, record[k]!]));
}

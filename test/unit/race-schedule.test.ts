// A failing race keeps when each of its calls started, printed as its replay
// path; a replay reads it back, and refuses one that does not fit the case.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { parseSchedule, raceCase } from '../../properties/race/case.js';
import { raceCalls } from '../../properties/race/index.js';
import { describeCounterexample } from '../../reproduce/report.js';

it('prints a failing case with its schedule as the replay path, and reads it back', () => {
  const [c] = fc.sample(raceCase, { seed: 7, numRuns: 1 });
  const calls = raceCalls(c!).length;
  expect(describeCounterexample(c)).toBe(JSON.stringify(c));
  c!.schedule = Array.from({ length: calls }, (_, i) => i * 1500);
  const text = describeCounterexample(c);
  const path = /replayPath="([^"]+)"/.exec(text)?.[1];
  expect(path).toBe(c!.schedule.join('.'));
  expect(JSON.parse(text.replace(/ \/\*.*\*\/$/, ''))).toEqual({ ...c, schedule: undefined });
  expect(parseSchedule(path!, calls)).toEqual(c!.schedule);
});

it('refuses a replay path that is not a schedule of the case', () => {
  expect(() => parseSchedule('0.10', 3)).toThrow(/not a schedule of 3 call\(s\)/);
  expect(() => parseSchedule('AACCB:K', 1)).toThrow(/start times in µs joined by '\.'/);
  expect(() => parseSchedule('0.-5', 2)).toThrow(/not a schedule/);
});

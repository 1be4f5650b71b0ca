// The race op's reply: a step a script line, in order, or nothing when the
// agent did not run them all.
import { expect, it } from 'vitest';
import { Guest, parseRace } from '../../properties/guest.js';
import type { Machine } from '../../vm/machine.js';

it('reads each line\'s result, errno and times', () => {
  expect(parseRace({ ret: 2, errno: 0, payload: '4096:0:10:2000,-1:14:15:900' }, 2)).toEqual([
    { ret: 4096, errno: 0, t0: 10, t1: 2000 },
    { ret: -1, errno: 14, t0: 15, t1: 900 },
  ]);
});

it('gives nothing for a race the agent did not run whole, or a reply it cannot read', () => {
  expect(parseRace({ ret: -1, errno: 22, payload: '' }, 2)).toBeUndefined();
  expect(parseRace({ ret: 1, errno: 0, payload: '0:0:1:2' }, 2)).toBeUndefined();
  expect(parseRace({ ret: 2, errno: 0, payload: '0:0:1:2' }, 2)).toBeUndefined();
  expect(parseRace({ ret: 2, errno: 0, payload: '0:0:1:2,0:0:x:2' }, 2)).toBeUndefined();
  expect(parseRace({ ret: 1, errno: 0, payload: '0:0:1' }, 1)).toBeUndefined();
});

it('sends the script as one hex request', async () => {
  const calls: unknown[][] = [];
  const guest = new Guest({ call: async (...a: unknown[]) => (calls.push(a), { ret: 1, errno: 0, payload: '5:0:0:7' }) } as unknown as Machine);
  const { steps } = await guest.race(['0 close 5']);
  expect(calls).toEqual([['race', Buffer.from('0 close 5').toString('hex')]]);
  expect(steps).toEqual([{ ret: 5, errno: 0, t0: 0, t1: 7 }]);
});

// Guest.must: a call the test relies on fails on any negative result.
import { expect, it } from 'vitest';
import { Guest } from '../../properties/guest.js';
import type { Machine } from '../../vm/machine.js';

const answering = (ret: number, errno: number) => new Guest({ call: async () => ({ ret, errno, payload: '' }) } as unknown as Machine);

it('rejects ret -1 even when errno is 0', async () => {
  await expect(answering(-1, 0).must('close', 5)).rejects.toThrow(/agent close 5 failed: ret -1, errno 0/);
  await expect(answering(-1, 9).must('close', 5)).rejects.toThrow(/errno 9/);
  await expect(answering(3, 0).must('open', '/dev/edu-dma0', 'rw')).resolves.toBe(3);
});

// The permission table: each node's mode, kind and owner, and nodes it lacks.
import { expect, it } from 'vitest';
import { permissionProblems } from '../../properties/oracles/permissions.js';

const D = '/sys/kernel/debug/edu_dma/0000:00:01.0';

it('accepts the driver as it is and names every node that differs', () => {
  const good = [
    '600 0 0 character special file /dev/edu-dma0',
    `755 0 0 directory ${D}/faults/gup_fail`,
    `600 0 0 regular empty file ${D}/faults/gup_fail/armed`,
    `400 0 0 regular empty file ${D}/faults/summary`,
    `200 0 0 regular empty file ${D}/faults/pageout/release`,
    `400 0 0 regular empty file ${D}/ledger`,
    '644 0 0 regular file /sys/module/edu_dma/parameters/dma_timeout_ms',
  ];
  expect(permissionProblems(good.join('\n'))).toEqual([]);
  expect(permissionProblems('666 0 0 character special file /dev/edu-dma0')).toEqual(['/dev/edu-dma0: character special file mode 666, the table says char mode 600']);
  expect(permissionProblems(`444 0 0 regular empty file ${D}/ledger`)).toEqual([`${D}/ledger: regular empty file mode 444, the table says file mode 400`]);
  expect(permissionProblems(`600 1000 0 regular empty file ${D}/faults/nth/armed`)).toEqual([`${D}/faults/nth/armed: owned by 1000:0, not root`]);
  expect(permissionProblems(`600 0 0 regular empty file ${D}/secret_addresses`)).toEqual([`${D}/secret_addresses: not in the permission table (mode 600)`]);
});

import { describe, expect, it } from 'vitest';
import { idleInterrupts, parseInterrupts } from '../../properties/oracles/interrupts.js';

// As a q35 guest prints them: one vCPU with edu on INTx, two with edu on MSI.
const oneCpu = `           CPU0       
  0:         90   IO-APIC   2-edge      timer
  8:          1   IO-APIC   8-edge      rtc0
 21:      50000   IO-APIC  21-fasteoi   edu_dma
NMI:          0   Non-maskable interrupts
`;
const twoCpus = `           CPU0       CPU1       
 24:          3          4  PCI-MSI 32768-edge      edu_dma
 25:        112          0  PCI-MSI 49152-edge      virtio1-input.0
LOC:       9001       8002   Local timer interrupts
`;

describe('idle-interrupt oracle', () => {
  it('reads the count of one IRQ, summed over the CPUs', () => {
    expect(parseInterrupts(oneCpu, 21)).toBe(50000);
    expect(parseInterrupts(twoCpus, 24)).toBe(7);
    expect(parseInterrupts(twoCpus, 2)).toBeUndefined();
  });

  it('refuses a table it cannot read rather than guess', () => {
    expect(() => parseInterrupts('nonsense\n 21: 3 IO-APIC\n', 21)).toThrow(/no CPU columns/);
    expect(() => parseInterrupts('   CPU0   CPU1\n 21: 3 IO-APIC 21-fasteoi edu_dma\n', 21)).toThrow(/does not hold 2 count/);
  });

  it('allows one late completion while idle, and names a storm', () => {
    expect(idleInterrupts({ irq: 21, count: 5 }, { irq: 21, count: 5 })).toBeUndefined();
    expect(idleInterrupts({ irq: 21, count: 5 }, { irq: 21, count: 6 })).toBeUndefined();
    expect(idleInterrupts({ irq: 21, count: 5 }, { irq: 21, count: 20005 })).toMatch(/IRQ 21\) fired 20000 times while the device was idle/);
  });

  it('says nothing across a rebind or without a reading', () => {
    expect(idleInterrupts({ irq: 24, count: 5 }, { irq: 25, count: 90000 })).toBeUndefined();
    expect(idleInterrupts(undefined, { irq: 25, count: 90000 })).toBeUndefined();
    expect(idleInterrupts({ irq: 25, count: 5 }, undefined)).toBeUndefined();
  });
});

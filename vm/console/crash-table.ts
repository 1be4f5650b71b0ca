// Console headers that mean the guest kernel went wrong, in the spirit of
// syzkaller's pkg/report: a frozen table scanned line by line.

export interface CrashPattern {
  readonly kind: 'panic' | 'oops' | 'bug' | 'warning' | 'dmar' | 'swiotlb-full' | 'dma-overflow';
  readonly pattern: RegExp;
}

export const crashTable: readonly CrashPattern[] = Object.freeze([
  { kind: 'panic', pattern: /Kernel panic - not syncing/ },
  { kind: 'bug', pattern: /\bBUG: / },
  { kind: 'bug', pattern: /kernel BUG at / },
  { kind: 'oops', pattern: /\bOops: / },
  { kind: 'oops', pattern: /general protection fault/ },
  { kind: 'warning', pattern: /\bWARNING: / },
  { kind: 'dmar', pattern: /DMAR: \[DMA (Read|Write)/ },
  { kind: 'swiotlb-full', pattern: /swiotlb buffer is full/ },
  { kind: 'dma-overflow', pattern: /DMA addr .* overflow/ },
]);

// Lines that close a report, so the excerpt can be cut there.
export const reportEnd = /---\[ end (trace|Kernel panic)/;

export function matchCrash(line: string): CrashPattern | undefined {
  return crashTable.find((entry) => entry.pattern.test(line));
}

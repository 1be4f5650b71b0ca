// Small statistics for the benchmark: medians, because these machines are noisy.

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const round = (value: number, digits = 3) => Number(value.toFixed(digits));

// How far apart repeated measurements lie: (max - min) / median, in percent.
export function spreadPct(values: readonly number[]): number {
  return round(((Math.max(...values) - Math.min(...values)) / median(values)) * 100, 2);
}

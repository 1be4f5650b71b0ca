// What a property run reports, and how a counterexample prints: the terms the
// failure files, JUnit reports and reproducers are written in (the property
// runner produces them; nothing here depends on it).
export interface PropertyReport {
  readonly property: string;
  readonly passed: boolean;
  readonly cases: number;
  readonly shrinks: number;
  readonly seed: number;
  readonly path?: string;
  readonly replayPath?: string;
  readonly counterexample?: unknown;
  readonly error?: string;
  readonly replay?: string;
  readonly durationMs: number;
  // The harness broke (not the driver): the property has no verdict.
  readonly harnessError?: { readonly code: string; readonly message: string };
}

// Command sequences print as their commands; everything else as JSON.
export function describeCounterexample(value: unknown): string {
  // (fast-check may build records without a prototype: those have no toString at all.)
  if (typeof value === 'object' && value !== null && typeof value.toString === 'function' && value.toString !== Object.prototype.toString) return String(value);
  return JSON.stringify(value);
}

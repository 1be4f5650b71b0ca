import { describe, expect, it } from 'vitest';
import { junitXml } from '../../reproduce/junit.js';

describe('JUnit output', () => {
  it('has a suite per profile, a case per property, and escaped failures with the replay command', () => {
    const xml = junitXml([
      { property: 'roundtrip', profile: 'direct', passed: true, cases: 300, shrinks: 0, seed: 1, durationMs: 1500 },
      { property: 'faults', profile: 'iommu', passed: false, cases: 3, shrinks: 2, seed: -7, path: '2:0', durationMs: 900, counterexample: { op: 'copy' }, error: 'returned -1 errno 12 <expected 14>', replay: 'npx dmafault run --seed=-7 --path 2:0' },
    ]);
    expect(xml).toContain('<testsuite name="dmafault direct" tests="1" failures="0" time="1.500">');
    expect(xml).toContain('<testsuite name="dmafault iommu" tests="1" failures="1" time="0.900">');
    expect(xml).toContain('<failure message="returned -1 errno 12 &lt;expected 14&gt;">');
    expect(xml).toContain('counterexample: {&quot;op&quot;:&quot;copy&quot;}');
    expect(xml).toContain('replay: npx dmafault run --seed=-7 --path 2:0');
  });
});

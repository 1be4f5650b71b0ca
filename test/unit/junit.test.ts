import { describe, expect, it } from 'vitest';
import { junitXml } from '../../reproduce/junit.js';

describe('JUnit output', () => {
  it('has a suite per profile, a case per property, and escaped failures with the replay command', () => {
    const xml = junitXml([
      { property: 'roundtrip', profile: 'direct', passed: true, cases: 300, shrinks: 0, seed: 1, durationMs: 1500 },
      { property: 'faults', profile: 'iommu', passed: false, cases: 3, shrinks: 2, seed: -7, path: '2:0', durationMs: 900, counterexample: { op: 'copy' }, error: 'returned -1 errno 12 <expected 14>', replay: 'npx dmafault run --seed=-7 --path 2:0' },
    ]);
    expect(xml).toContain('<testsuite name="dmafault direct" tests="1" failures="0" errors="0" time="1.500">');
    expect(xml).toContain('<testsuite name="dmafault iommu" tests="1" failures="1" errors="0" time="0.900">');
    expect(xml).toContain('<failure message="returned -1 errno 12 &lt;expected 14&gt;">');
    expect(xml).toContain('counterexample: {&quot;op&quot;:&quot;copy&quot;}');
    expect(xml).toContain('replay: npx dmafault run --seed=-7 --path 2:0');
  });

  it('counts a property the harness could not judge as an error, not a failure', () => {
    const xml = junitXml([
      { property: 'roundtrip', profile: 'direct', passed: true, cases: 300, shrinks: 0, seed: 1, durationMs: 1000 },
      { property: 'faults', profile: 'direct', passed: false, cases: 0, shrinks: 0, seed: 1, durationMs: 50, harnessError: { code: 'E_CONNECTION_LOST', message: 'the SSH connection closed\nmore' } },
    ]);
    expect(xml).toContain('tests="2" failures="0" errors="1"');
    expect(xml).toContain('<error type="E_CONNECTION_LOST" message="the SSH connection closed">the SSH connection closed\nmore</error>');
  });

  it('drops the characters XML forbids (a console log carries escapes and NULs)', () => {
    const xml = junitXml([{ property: 'faults', profile: 'direct', passed: false, cases: 1, shrinks: 0, seed: 1, path: '0', durationMs: 1, error: 'BUG: \u001b[1mKASAN\u0000\u0007 \ud800x é 😀', replay: 'r' }]);
    expect(xml).toContain('message="BUG: [1mKASAN x é 😀"');
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });
});

import { defineConfig } from 'vitest/config';
import { DebugLastSequencer } from './test/debug-last.js';

// Guest tests boot QEMU under TCG: run files one at a time (2-core machines) with
// generous timeouts; the speed targets live in `dmafault bench`, not here.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    // describe.concurrent (the catalogue): two guests at a time on two cores.
    maxConcurrency: 2,
    testTimeout: 600_000,
    hookTimeout: 900_000,
    globalSetup: ['test/global-setup.ts'],
    sequence: { sequencer: DebugLastSequencer },
  },
});

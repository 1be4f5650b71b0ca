// Provisions once before any test file: host packages, both kernel flavours
// (the debug one is built from source the first time: minutes), agent, base
// images and the default driver, so the files only find them in the cache.
import { stderrProgress } from '../vm/progress.js';
import { setup } from '../vm/setup.js';

export default async function globalSetup(): Promise<void> {
  for (const flavour of ['stock', 'debug'] as const) {
    const env = await setup({ flavour, progress: stderrProgress(`dmafault setup (${flavour})`) });
    await env.driver();
  }
}

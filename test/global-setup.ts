// Provisions once before any test file: host packages, kernel, agent, base image
// and the default driver, so the files only find them in the cache.
import { stderrProgress } from '../vm/progress.js';
import { setup } from '../vm/setup.js';

export default async function globalSetup(): Promise<void> {
  const env = await setup({ progress: stderrProgress('dmafault setup') });
  await env.driver();
}

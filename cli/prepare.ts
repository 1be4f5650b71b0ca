// `dmafault prepare`: everything before the first boot (host packages, the
// kernel of the flavour asked for, which the debug flavour builds, the agent,
// the base image and the default driver), then exit: warms the cache for CI
// or an image, or builds the debug kernel while something else runs.
import { stderrProgress } from '../vm/progress.js';
import { setup } from '../vm/setup.js';
import { environmentHelp, environmentOptions, parse, setupOptions } from './options.js';

export const prepareHelp = `usage: dmafault prepare [options]
Provisions and builds what a run needs (for --flavour debug: the debug kernel,
once per machine), then exits.
${environmentHelp}`;

export async function prepare(argv: string[]): Promise<number> {
  const { values } = parse('prepare', argv, environmentOptions);
  if (values.help) {
    process.stdout.write(`${prepareHelp}\n`);
    return 0;
  }
  const env = await setup({ ...setupOptions(values), progress: stderrProgress() });
  const driver = await env.driver();
  const ready = { kernel: env.kernel.release, flavour: env.kernel.flavour, identity: env.kernel.identity, image: env.kernel.image, driver: driver.ko };
  process.stdout.write(values.json ? `${JSON.stringify(ready)}\n` : `ready: kernel ${ready.kernel} (${ready.flavour}), driver ${ready.driver}\n`);
  return 0;
}

// Command-line options shared by the subcommands, parsed strictly: an unknown
// option or a malformed value is a UsageError naming what was expected.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../vm/errors.js';
import { parseFlavour } from '../vm/kernel/flavour.js';

export const environmentOptions = {
  cache: { type: 'string' },
  kernel: { type: 'string' },
  'kernel-build': { type: 'string' },
  'kernel-modules': { type: 'string' },
  accel: { type: 'string' },
  flavour: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\n/g, " ")} (see dmafault ${command} --help)`, { cause: err });
  }
}

export function integer(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}; got "${value}"`);
  }
  return Number(value);
}

export function setupOptions(values: { cache?: string; kernel?: string; 'kernel-build'?: string; 'kernel-modules'?: string; accel?: string; flavour?: string }) {
  return {
    cache: values.cache,
    kernel: values.kernel,
    kernelBuild: values['kernel-build'],
    kernelModules: values['kernel-modules'],
    accel: values.accel,
    flavour: parseFlavour(values.flavour),
  };
}

export const environmentHelp = `  --cache DIR            cache directory (default: $DMAFAULT_CACHE, else $XDG_CACHE_HOME/dmafault)
  --kernel IMAGE         boot your own kernel (bzImage or vmlinux) ...
  --kernel-build DIR     ... built in this build/headers directory
  --kernel-modules DIR   ... with modules installed under DIR (make modules_install INSTALL_MOD_PATH=DIR)
  --flavour stock|debug  guest kernel: Debian's as shipped (default), or a debug build of its
                         source with KASAN, lockdep, kmemleak, DMA-API debug, UBSAN... (built once)
  --accel auto|tcg|kvm   accelerator (default: $DMAFAULT_ACCEL, else auto: KVM only if a probe boots)
  --json                 print one JSON object on stdout`;

// Runs a host command for provisioning or building, turning a failure into a
// ProvisionError that quotes the command and the tail of its output.
import { execa } from 'execa';
import { ProvisionError } from './errors.js';

export interface CommandOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export async function runCommand(file: string, args: string[], options: CommandOptions = {}): Promise<string> {
  const result = await execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    timeout: options.timeoutMs,
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  if (result.failed) {
    const tail = (result.all ?? '').split('\n').slice(-30).join('\n');
    throw new ProvisionError(`command failed (${result.shortMessage}): ${result.command}\n${tail}`);
  }
  return result.stdout;
}

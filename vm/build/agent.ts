// Builds the guest agent: one static C program, no libraries needed in the guest.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir } from '../cache.js';
import { type Progress, step } from '../progress.js';
import { projectRoot } from '../project-root.js';
import { runCommand } from '../run-command.js';
import { hashFiles } from './source-hash.js';
import { driverUnderTest } from '../../target/index.js';

const agentSource = join(projectRoot, 'vm/agent/agent.c');
const uapiHeader = join(projectRoot, driverUnderTest.uapiHeader);

export async function buildAgent(cache: string, progress: Progress): Promise<string> {
  const hash = await hashFiles(projectRoot, [agentSource, uapiHeader]);
  const out = join(await cacheDir(cache, 'build', `agent-${hash}`), 'dmafault-agent');
  if (existsSync(out)) return out;
  await step(progress, 'building the guest agent', () =>
    runCommand('gcc', ['-O2', '-static', '-Wall', '-Wextra', '-Werror', `-I${dirname(uapiHeader)}`, '-o', out, agentSource]),
  );
  return out;
}

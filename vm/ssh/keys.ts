// Fresh SSH keys for one VM: a client key pair (ssh2) and a dropbear host key
// whose public half the client pins, so we only ever talk to our own guest.
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { ProvisionError } from '../errors.js';
import { runCommand } from '../run-command.js';

export interface VmKeys {
  readonly clientPrivate: string;
  readonly clientPublic: string;
  readonly hostKeyFile: string;
  readonly hostPublic: Buffer;
}

export async function makeKeys(vmDir: string): Promise<VmKeys> {
  const client = ssh2.utils.generateKeyPairSync('ed25519');
  const hostKeyFile = join(vmDir, 'dropbear_host_key');
  await runCommand('dropbearkey', ['-t', 'ed25519', '-f', hostKeyFile]);
  const shown = await runCommand('dropbearkey', ['-y', '-f', hostKeyFile]);
  const line = shown.split('\n').find((l) => l.startsWith('ssh-ed25519 '));
  const parsed = line ? ssh2.utils.parseKey(line) : null;
  if (!parsed || parsed instanceof Error) throw new ProvisionError(`cannot read the public host key from dropbearkey: ${shown}`);
  return { clientPrivate: client.private, clientPublic: client.public, hostKeyFile, hostPublic: parsed.getPublicSSH() };
}

// Connects ssh2 to the guest's dropbear, retrying until it listens, and pins its host key.
import ssh2, { type Client } from 'ssh2';
import { ConnectionLostError } from '../errors.js';
import { timeout } from '../timeouts.js';
import type { VmKeys } from './keys.js';

// Cheap algorithms: the guest runs under TCG, where every cycle counts.
const algorithms = {
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org'],
  cipher: ['aes128-ctr'],
  hmac: ['hmac-sha1'],
  serverHostKey: ['ssh-ed25519'],
} as const;

// ssh2 emits 'error' on its client, and an 'error' without a listener ends
// the process: a failed attempt can emit more than one (the handshake's, then
// the closing socket's), and a connected client may emit one before its owner
// listens (the Machine judges a lost connection once its agent runs; until
// then, a broken connection fails the request in progress). So the client
// always has a listener.
function ignore(): void {}

function connectOnce(port: number, keys: VmKeys, readyTimeoutMs: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', ignore);
    const fail = (err: Error) => {
      client.off('error', fail);
      client.end();
      reject(err);
    };
    client.once('ready', () => {
      client.off('error', fail);
      client.setNoDelay(true);
      resolve(client);
    });
    client.on('error', fail);
    client.connect({
      host: '127.0.0.1',
      port,
      username: 'root',
      privateKey: keys.clientPrivate,
      readyTimeout: readyTimeoutMs,
      algorithms: { ...algorithms, kex: [...algorithms.kex], cipher: [...algorithms.cipher], hmac: [...algorithms.hmac], serverHostKey: [...algorithms.serverHostKey] },
      hostVerifier: (key: Buffer) => key.equals(keys.hostPublic),
    });
  });
}

// Retries until `deadline`. Each attempt has its own short limit: an early
// attempt can stall (QEMU's slirp accepts before the guest listens) and must
// not eat the whole boot budget.
export async function connectSsh(port: number, keys: VmKeys, deadline: number, aborted: () => Error | undefined): Promise<Client> {
  let last: unknown;
  let attempts = 0;
  while (Date.now() < deadline) {
    const stop = aborted();
    if (stop) throw stop;
    attempts++;
    try {
      return await connectOnce(port, keys, Math.max(1000, Math.min(timeout('sshAttemptMs'), deadline - Date.now())));
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new ConnectionLostError(`ssh to 127.0.0.1:${port} did not succeed in ${attempts} attempts before the deadline`, { cause: last });
}

// What the fault hooks cost: zero-copy transfer latency with the hooks compiled
// out (DMAFI=n), compiled in and off, and armed but never firing. Transfers run
// in a loop inside the guest (one agent request per batch); rounds interleave
// the three configurations so machine noise hits them alike.
import { FaultController } from '../faults/controller.js';
import { Guest, PAGE, XFER_TO_DEVICE } from '../properties/guest.js';
import type { Environment } from '../vm/setup.js';
import { median, round } from './stats.js';

export interface OverheadResult {
  readonly xfer_us_hooks_out: number;
  readonly xfer_us_hooks_off: number;
  readonly xfer_us_hooks_armed: number;
  readonly ratio_off: number;
  readonly ratio_armed: number;
}

interface Rig {
  readonly guest: Guest;
  readonly fd: number;
  readonly buf: number;
  close(): Promise<void>;
}

async function rig(env: Environment, faults: boolean): Promise<Rig> {
  const machine = await env.boot('direct', await env.driver(null, { faults }));
  const guest = new Guest(machine);
  const fd = await guest.must('open', '/dev/edu-dma0', 'rw');
  const buf = await guest.alloc(2 * PAGE);
  await guest.fill(buf, 0, 2 * PAGE, 1);
  return { guest, fd, buf, close: () => machine.close() };
}

// Microseconds per transfer of 3000 bytes spanning two pages, over `count` transfers.
async function perXfer(r: Rig, count: number): Promise<number> {
  const start = performance.now();
  const reply = await r.guest.call('repeat', count, 'xfer', r.fd, r.buf, 3000, 3000, 0, XFER_TO_DEVICE);
  if (reply.ret !== 0) throw new Error(`transfer loop failed: errno ${reply.errno}`);
  return ((performance.now() - start) * 1000) / count;
}

export async function measureOverhead(env: Environment, rounds = 5, count = 300): Promise<OverheadResult> {
  const out = await rig(env, false);
  const hooked = await rig(env, true);
  try {
    const ledger = (await hooked.guest.machine.exec('ls -d /sys/kernel/debug/edu_dma/*/faults')).stdout.trim();
    const faults = new FaultController(hooked.guest, ledger);
    const pid = (await hooked.guest.call('getpid')).ret;
    const times = { out: [] as number[], off: [] as number[], armed: [] as number[] };
    await perXfer(out, 20);
    await perXfer(hooked, 20);
    for (let i = 0; i < rounds; i++) {
      times.out.push(await perXfer(out, count));
      times.off.push(await perXfer(hooked, count));
      // Armed on every point of the transfer, at an evaluation never reached.
      const never = { schedule: { nth: 0xffffffff } };
      await faults.arm({ faults: [{ point: 'gup_fail', ...never }, { point: 'sg_alloc_fail', ...never }, { point: 'dma_map_fail', ...never }, { point: 'dma_timeout', ...never }] }, pid);
      times.armed.push(await perXfer(hooked, count));
      await faults.clear();
    }
    const [o, f, a] = [median(times.out), median(times.off), median(times.armed)];
    return {
      xfer_us_hooks_out: round(o, 1),
      xfer_us_hooks_off: round(f, 1),
      xfer_us_hooks_armed: round(a, 1),
      ratio_off: round(f / o, 3),
      ratio_armed: round(a / o, 3),
    };
  } finally {
    await out.close();
    await hooked.close();
  }
}

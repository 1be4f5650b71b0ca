// What the fault hooks cost: zero-copy transfer latency with the hooks compiled
// out (DMAFI=n), compiled in and off, and armed but never firing; and what
// interception costs: the DMAFI=n driver with dmatap loaded before it, not
// armed and armed but never firing, against the same driver without dmatap. Transfers run
// in a loop inside the guest (one agent request per batch); rounds interleave
// the three configurations so machine noise hits them alike. Each batch is
// timed twice: on the host's wall clock, and as the CPU time the guest spent on
// it, on the guest's own clock, which runs at a fixed icount shift here and so
// counts instructions, whatever the host's load (the wall-clock ratios moved
// from 0.92 to 1.92 between runs).
import { FaultController } from '../faults/controller.js';
import { dmatapHooks } from '../faults/hooks.js';
import { DEVICE_NODE, Guest, MODULE, PAGE, PATHS, XFER_TO_DEVICE } from '../properties/guest.js';
import type { Environment } from '../vm/setup.js';
import { median, round, spreadPct } from './stats.js';

export interface OverheadResult {
  readonly xfer_us_hooks_out: number;
  readonly xfer_us_hooks_off: number;
  readonly xfer_us_hooks_armed: number;
  readonly ratio_off: number;
  readonly ratio_armed: number;
  readonly xfer_guest_cpu_us_hooks_out: number;
  readonly xfer_guest_cpu_us_hooks_off: number;
  readonly xfer_guest_cpu_us_hooks_armed: number;
  readonly guest_ratio_off: number;
  readonly guest_ratio_armed: number;
  // (max - min) / median of the rounds, in percent, per configuration.
  readonly guest_spread_pct_out: number;
  readonly guest_spread_pct_off: number;
  readonly guest_spread_pct_armed: number;
  // dmatap: loaded and not armed (tap_off), armed and never firing (tap_armed),
  // against hooks_out (the same DMAFI=n driver, no dmatap).
  readonly xfer_us_tap_off: number;
  readonly xfer_us_tap_armed: number;
  readonly ratio_tap_off: number;
  readonly ratio_tap_armed: number;
  readonly xfer_guest_cpu_us_tap_off: number;
  readonly xfer_guest_cpu_us_tap_armed: number;
  readonly guest_ratio_tap_off: number;
  readonly guest_ratio_tap_armed: number;
  readonly guest_spread_pct_tap_off: number;
  readonly guest_spread_pct_tap_armed: number;
}

// The guest clock's rate in the overhead guests: 2^0 ns per instruction.
export const GUEST_TIME_SHIFT = 0;

interface Timing {
  readonly wallUs: number;
  readonly guestUs: number;
}


interface Rig {
  readonly guest: Guest;
  readonly fd: number;
  readonly buf: number;
  close(): Promise<void>;
}

async function rig(env: Environment, faults: boolean, tap = false): Promise<Rig> {
  const companion = tap ? { companion: { ko: (await env.dmatap()).ko, params: `target=${MODULE}` } } : {};
  const machine = await env.boot('direct', await env.driver(null, { faults }), { icountShift: GUEST_TIME_SHIFT, ...companion });
  const guest = new Guest(machine);
  const fd = await guest.must('open', DEVICE_NODE, 'rw');
  const buf = await guest.alloc(2 * PAGE);
  await guest.fill(buf, 0, 2 * PAGE, 1);
  return { guest, fd, buf, close: () => machine.close() };
}

// Microseconds per transfer of 3000 bytes in one page (one segment, one DMA,
// whatever the guest's physical layout: two pages may or may not be
// contiguous, which changes the number of DMAs between guests), over `count`
// transfers: on the host's clock, and the CPU time the guest spent on them on
// its own clock (the agent's repeat op). Not the guest's elapsed time: that is
// edu's 100 ms DMA timer, which QEMU rounds to whole milliseconds, per DMA.
async function perXfer(r: Rig, count: number): Promise<Timing> {
  const start = performance.now();
  const reply = await r.guest.call('repeat', count, 'xfer', r.fd, r.buf, 0, 3000, 0, XFER_TO_DEVICE);
  if (reply.ret !== 0) throw new Error(`transfer loop failed: errno ${reply.errno}`);
  const [, cpuNs = NaN] = reply.payload.split(',').map(Number);
  if (!Number.isFinite(cpuNs) || cpuNs <= 0) throw new Error(`the transfer loop reported no guest CPU time: ${JSON.stringify(reply.payload)}`);
  return { wallUs: ((performance.now() - start) * 1000) / count, guestUs: cpuNs / 1000 / count };
}

// One round of a configuration: `batches` batches of `count` transfers. The
// guest figure is the least batch's: this kernel charges interrupt and softirq
// work (no IRQ_TIME_ACCOUNTING) to whichever thread it interrupts, so a batch
// hit by, say, a burst of RCU callbacks costs a few hundred µs more. That
// noise only ever adds, and it hit about one round in five (with one batch of
// 2000 a round, spreads of 1.18% and 1.35% in two runs, all from one round
// each). The wall figure is the mean over the batches.
async function roundOf(r: Rig, count: number, batches: number): Promise<Timing> {
  const all: Timing[] = [];
  for (let i = 0; i < batches; i++) all.push(await perXfer(r, count));
  return { wallUs: all.reduce((sum, t) => sum + t.wallUs, 0) / all.length, guestUs: Math.min(...all.map((t) => t.guestUs)) };
}

// Four batches of 500 transfers a round: about 4.4 ms of guest CPU each.
export async function measureOverhead(env: Environment, rounds = 5, count = 500, batches = 4): Promise<OverheadResult> {
  const out = await rig(env, false);
  const hooked = await rig(env, true);
  const tapped = await rig(env, false, true);
  try {
    const ledger = (await hooked.guest.machine.exec(`ls -d ${PATHS.debugfs}/*/faults`)).stdout.trim();
    const faults = new FaultController(hooked.guest, ledger);
    const pid = (await hooked.guest.call('getpid')).ret;
    const tapFaults = new FaultController(tapped.guest, dmatapHooks.faultsDir(''));
    const tapPid = (await tapped.guest.call('getpid')).ret;
    const times = { out: [] as Timing[], off: [] as Timing[], armed: [] as Timing[], tapOff: [] as Timing[], tapArmed: [] as Timing[] };
    await perXfer(out, 20);
    await perXfer(hooked, 20);
    await perXfer(tapped, 20);
    for (let i = 0; i < rounds; i++) {
      times.out.push(await roundOf(out, count, batches));
      times.off.push(await roundOf(hooked, count, batches));
      // Armed on every point of the transfer, at an evaluation never reached.
      const never = { schedule: { nth: 0xffffffff } };
      await faults.arm({ faults: [{ point: 'gup_fail', ...never }, { point: 'sg_alloc_fail', ...never }, { point: 'dma_map_fail', ...never }, { point: 'dma_timeout', ...never }, { point: 'irq_late', ...never }] }, pid);
      times.armed.push(await roundOf(hooked, count, batches));
      await faults.clear();
      times.tapOff.push(await roundOf(tapped, count, batches));
      await tapFaults.arm({ faults: [{ point: 'gup_fail', ...never }, { point: 'sg_alloc_fail', ...never }, { point: 'dma_map_fail', ...never }, { point: 'kmalloc_fail', ...never }] }, tapPid);
      times.tapArmed.push(await roundOf(tapped, count, batches));
      await tapFaults.clear(dmatapHooks.points);
    }
    const wall = (t: Timing[]) => median(t.map((x) => x.wallUs));
    const guest = (t: Timing[]) => t.map((x) => x.guestUs);
    const [o, f, a] = [wall(times.out), wall(times.off), wall(times.armed)];
    const [go, gf, ga] = [median(guest(times.out)), median(guest(times.off)), median(guest(times.armed))];
    const [to, ta] = [wall(times.tapOff), wall(times.tapArmed)];
    const [gto, gta] = [median(guest(times.tapOff)), median(guest(times.tapArmed))];
    return {
      xfer_us_hooks_out: round(o, 1),
      xfer_us_hooks_off: round(f, 1),
      xfer_us_hooks_armed: round(a, 1),
      ratio_off: round(f / o, 3),
      ratio_armed: round(a / o, 3),
      xfer_guest_cpu_us_hooks_out: round(go, 2),
      xfer_guest_cpu_us_hooks_off: round(gf, 2),
      xfer_guest_cpu_us_hooks_armed: round(ga, 2),
      guest_ratio_off: round(gf / go, 4),
      guest_ratio_armed: round(ga / go, 4),
      guest_spread_pct_out: spreadPct(guest(times.out)),
      guest_spread_pct_off: spreadPct(guest(times.off)),
      guest_spread_pct_armed: spreadPct(guest(times.armed)),
      xfer_us_tap_off: round(to, 1),
      xfer_us_tap_armed: round(ta, 1),
      ratio_tap_off: round(to / o, 3),
      ratio_tap_armed: round(ta / o, 3),
      xfer_guest_cpu_us_tap_off: round(gto, 2),
      xfer_guest_cpu_us_tap_armed: round(gta, 2),
      guest_ratio_tap_off: round(gto / go, 4),
      guest_ratio_tap_armed: round(gta / go, 4),
      guest_spread_pct_tap_off: spreadPct(guest(times.tapOff)),
      guest_spread_pct_tap_armed: spreadPct(guest(times.tapArmed)),
    };
  } finally {
    await out.close();
    await hooked.close();
    await tapped.close();
  }
}

// dmatap, the module that intercepts one target module's DMA-lifecycle calls:
// loaded before edu_dma (target=edu_dma), it sees the driver's pins, sg tables,
// mappings and allocations at their call sites, keeps them in a ledger, injects
// faults at them, and reports what the driver still holds at a check or when it
// is unloaded. The steps share one guest and run in order; each also checks the
// console for kernel warnings. dmatap-debug.test.ts runs it all on the debug
// kernel (lockdep, KASAN, DEBUG_ATOMIC_SLEEP, DMA-API debug), which has no
// ftrace: there every function is hooked with a kprobe.
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDmatap } from '../../vm/build/dmatap.js';
import { type DriverBuild, guestModule } from '../../vm/build/driver.js';
import type { Machine } from '../../vm/machine.js';
import type { Flavour } from '../../vm/kernel/flavour.js';
import { environment } from './helpers.js';

// Set by describeDmatap(): one flavour per test file.
let flavour: Flavour = 'stock';

const TO_DEVICE = 1;
const FROM_DEVICE = 2;
const PAGE = 4096;
const EFAULT = 14;
const ENOMEM = 12;
const EIO = 5;
const DEBUGFS = '/sys/kernel/debug/dmatap';
const DRIVER = '/lib/dmafault/edu_dma.ko';
// The lifecycle of one zero-copy transfer, as edu_dma calls it.
const XFER_FUNCTIONS = [
  'pin_user_pages_fast',
  'sg_alloc_table_from_pages_segment',
  'dma_map_sgtable',
  'dma_sync_sg_for_cpu',
  'dma_unmap_sg_attrs',
  'sg_free_table',
  'unpin_user_pages_dirty_lock',
  'kvmalloc_node',
  'kvfree',
];
const HELD = ['pinned_pages', 'sg_tables', 'dma_mappings', 'coherent_buffers'] as const;

let m: Machine;
let stock: DriverBuild;
let consoleFrom = 0;
let agentPid = 0;

async function sh(command: string): Promise<string> {
  const { code, stdout, stderr } = await m.exec(command);
  expect(code, `${command}: ${stderr}`).toBe(0);
  return stdout;
}

async function ledger(): Promise<Record<string, number>> {
  const out = await sh(`cat ${DEBUGFS}/ledger`);
  return Object.fromEntries(out.trim().split('\n').map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]));
}

async function lines(file: string): Promise<string[]> {
  return (await sh(`cat ${DEBUGFS}/${file}`)).split('\n').filter(Boolean);
}

interface Site {
  fn: string;
  site: string;
  calls: number;
  injected: number;
  sym: string;
}

// "<function> <site> <calls> <injected> <symbol>" per line.
async function sites(): Promise<Site[]> {
  return (await lines('sites')).map((l) => {
    const [fn, site, calls, injected, sym] = l.split(' ');
    return { fn: fn!, site: site!, calls: Number(calls), injected: Number(injected), sym: sym! };
  });
}

async function siteOf(fn: string): Promise<Site> {
  const found = (await sites()).filter((s) => s.fn === fn);
  expect(found, fn).toHaveLength(1);
  return found[0]!;
}

async function arm(point: string, knobs: Record<string, number>): Promise<void> {
  const dir = `${DEBUGFS}/faults/${point}`;
  const writes = Object.entries(knobs).map(([k, v]) => `echo ${v} > ${dir}/${k}`);
  await sh([...writes, `echo 1 > ${dir}/armed`].join(' && '));
}

async function injected(point: string): Promise<number> {
  const out = await sh(`cat ${DEBUGFS}/faults/${point}/injected; echo 0 > ${DEBUGFS}/faults/${point}/armed`);
  return Number(out.trim());
}

// No kernel warning, BUG or lockdep report since the last look.
function expectQuietConsole(step: string): void {
  const reports = m.crashesSince(consoleFrom);
  consoleFrom = m.consoleLines;
  expect(reports.map((r) => r.title), `${step}: ${m.consoleTail(60)}`).toEqual([]);
}

async function expectNothingHeld(baseAllocations: number): Promise<void> {
  const now = await ledger();
  for (const k of HELD) expect(now[k], k).toBe(0);
  expect(now.allocations, 'allocations').toBe(baseAllocations);
  expect(now.untracked).toBe(0);
}

async function expectNoFindings(): Promise<void> {
  expect(await lines('findings')).toEqual([]);
}

// An open file and a fresh 4-page buffer; `run` gets both, then both are released.
async function withBuffer<T>(run: (fd: number, h: number) => Promise<T>): Promise<T> {
  const fd = (await m.call('open', '/dev/edu-dma0', 'rw')).ret;
  expect(fd).toBeGreaterThanOrEqual(0);
  const h = (await m.call('alloc', 4 * PAGE, 'anon', 'rw')).ret;
  expect(h).toBeGreaterThanOrEqual(0);
  try {
    return await run(fd, h);
  } finally {
    await m.call('free', h);
    await m.call('close', fd);
  }
}

// One transfer to the device and back through [off, off + len): the bytes come back.
async function roundTrip(off: number, len: number, seed: number): Promise<void> {
  await withBuffer(async (fd, h) => {
    await m.call('fill', h, off, len, seed, 0);
    expect(await m.call('xfer', fd, h, off, len, 0, TO_DEVICE)).toMatchObject({ ret: 0, errno: 0 });
    await m.call('fill', h, off, len, seed + 1, 0);
    expect(await m.call('xfer', fd, h, off, len, 0, FROM_DEVICE)).toMatchObject({ ret: 0, errno: 0 });
    expect(await m.call('check', h, off, len, seed, 0)).toMatchObject({ ret: -1, errno: 0 });
  });
}

// One transfer to the device, with `point` armed once the file is open: [ret, errno].
async function xferTo(off: number, len: number, point: string, knobs: Record<string, number>): Promise<[number, number]> {
  return withBuffer(async (fd, h) => {
    await arm(point, knobs);
    const r = await m.call('xfer', fd, h, off, len, 0, TO_DEVICE);
    return [r.ret, r.errno];
  });
}

// Replaces the loaded edu_dma with `build` (uploaded to /tmp when not the stock module).
async function loadTarget(build: DriverBuild | null): Promise<void> {
  let path = DRIVER;
  if (build) {
    path = `/tmp/${build.variant}/edu_dma.ko`;
    await sh(`mkdir -p /tmp/${build.variant}`);
    await m.upload(path, await readFile(await guestModule(build.ko)));
  }
  await sh(`insmod ${path}`);
}

let baseAllocations = 0;

// Mean guest time of one 2-page XFER to the device, over 50.
async function xferCost(): Promise<{ elapsed: number; cpu: number }> {
  return withBuffer(async (fd, h) => {
    const r = await m.call('repeat', 50, 'xfer', fd, h, 3000, 3000, 0, TO_DEVICE);
    expect(r.ret).toBe(0);
    const [elapsed, cpu] = r.payload.split(',').map(Number);
    return { elapsed: Math.round(elapsed! / 50), cpu: Math.round(cpu! / 50) };
  });
}

// The steps, on a guest of `f`'s kernel (dmatap.test.ts: stock; dmatap-debug.test.ts: debug).
export function describeDmatap(f: Flavour): void {
  flavour = f;
  beforeAll(async () => {
    const env = await environment(flavour);
    stock = await env.driver(null, { faults: false });
    m = await env.boot('direct', stock);
    const tap = await buildDmatap(env.kernel, env.cache, env.progress);
    const ko = tap.ko.replace(/\.ko$/, '.guest.ko');
    await execa('strip', ['--strip-debug', '-o', ko, tap.ko]);
    await m.upload('/tmp/dmatap.ko', await readFile(ko));
    agentPid = (await m.call('getpid')).ret;
    consoleFrom = m.consoleLines;
  });

  afterAll(async () => {
    await m?.close();
  });

  describe.sequential('dmatap on edu_dma', () => {
    it('loads before the target and hooks every function: ftrace where there is an fentry site, a kprobe in lib/', async () => {
      await sh('rmmod edu_dma');
      await sh('insmod /tmp/dmatap.ko target=edu_dma');
      await loadTarget(null);
      const hooks = Object.fromEntries((await lines('hooks')).map((l) => l.split(' ')));
      expect(Object.keys(hooks)).toHaveLength(44);
      const kprobed = Object.entries(hooks).filter(([, how]) => how === 'kprobe').map(([fn]) => fn);
      if (flavour === 'stock') expect(kprobed.sort()).toEqual(['sg_alloc_table', 'sg_alloc_table_from_pages_segment', 'sg_free_table']);
      else expect(kprobed).toHaveLength(44);
      expect((await sh('stat -c %a /sys/kernel/debug/dmatap/ledger /sys/kernel/debug/dmatap/check')).split('\n').filter(Boolean)).toEqual(['400', '200']);
      // The probe's device state is the one allocation held while the device is bound (with its IRQ),
      // and its reference to the PCI device the one reference.
      const held = await lines('held');
      expect(held.filter((l) => !/ (irq|pci_dev) /.test(l))).toEqual([expect.stringMatching(/^\d+ alloc size=\d+ fn=kmalloc_trace site=edu_dma\+0x[0-9a-f]+ sym=edu_probe\+0x[0-9a-f]+\/0x[0-9a-f]+$/)]);
      expect(held.filter((l) => / pci_dev /.test(l))).toEqual([expect.stringMatching(/^\d+ pci_dev size=1 fn=pci_dev_get site=edu_dma\+0x[0-9a-f]+ sym=edu_probe\+0x[0-9a-f]+\/0x[0-9a-f]+$/)]);
      expect((await ledger()).pci_dev_refs).toBe(1);
      baseAllocations = (await ledger()).allocations!;
      expectQuietConsole('load');
    });

    it('sees a zero-copy transfer at its call sites, and the ledger returns to where it was', async () => {
      const before = await ledger();
      await roundTrip(100, 3000, 7);
      const after = await ledger();
      await expectNothingHeld(baseAllocations);
      expect(after.pins_total! - before.pins_total!).toBe(2);
      expect(after.maps_total! - before.maps_total!).toBe(2);
      const seen = await sites();
      for (const fn of XFER_FUNCTIONS) {
        const s = seen.find((x) => x.fn === fn);
        expect(s, fn).toBeDefined();
        expect(s!.site).toMatch(/^edu_dma\+0x[0-9a-f]+$/);
      }
      expect((await siteOf('pin_user_pages_fast')).calls).toBe(2);
      await expectNoFindings();
      // No pointer or dma address reaches user space.
      expect(await sh(`cat ${DEBUGFS}/ledger ${DEBUGFS}/held ${DEBUGFS}/sites ${DEBUGFS}/findings`)).not.toMatch(/[0-9a-f]{12,}/);
      expectQuietConsole('transfer');
    });

    it('counts pins per page: a page pinned twice and unpinned once stays held once', async () => {
      const timeout = '/sys/module/edu_dma/parameters/dma_timeout_ms';
      const before = (await sh(`cat ${timeout}`)).trim();
      await withBuffer(async (fd, h) => {
        await m.call('fill', h, 100, 1, 1, 0);
        // A DMA that times out leaves its page pinned (quarantined) until the device is unbound.
        await sh(`echo 1 > ${timeout}`);
        expect(await m.call('xfer', fd, h, 100, 1, 0, TO_DEVICE)).toMatchObject({ ret: -1, errno: 110 });
        await sh(`echo ${before} > ${timeout}`);
        expect((await ledger()).pinned_pages).toBe(1);
        // The next transfer of the same page pins it again and, the device wedged, unpins it.
        expect(await m.call('xfer', fd, h, 100, 1, 0, TO_DEVICE)).toMatchObject({ ret: -1, errno: 5 });
        expect((await ledger()).pinned_pages).toBe(1);
      });
      await sh('echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/unbind; echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/bind');
      await expectNothingHeld(baseAllocations);
      await expectNoFindings();
      expectQuietConsole('a page pinned twice');
    });

    it('names sites as offsets in the module text that the host maps to source lines', async () => {
      const pin = await siteOf('pin_user_pages_fast');
      const offset = Number.parseInt(pin.site.split('+')[1]!, 16);
      const [symbol, symOffset] = pin.sym.split('/')[0]!.split('+');
      // dmafi's wrappers are inline: the call is the driver's own.
      expect(symbol).toBe('edu_pinned_get');
      const { stdout: nm } = await execa('nm', [stock.ko]);
      const value = nm.split('\n').find((l) => l.endsWith(` ${symbol}`))!.split(' ')[0]!;
      expect(Number.parseInt(value, 16) + Number.parseInt(symOffset!, 16)).toBe(offset);
      // A return address: the call is the instruction before it, inlined into the driver's function.
      const { stdout } = await execa('addr2line', ['-i', '-e', stock.ko, '-j', '.text', (offset - 1).toString(16)]);
      // Innermost first: the wrapper in dmafi.h, last the driver function the symbol names.
      const chain = stdout.trim().split('\n');
      expect(chain[0]).toMatch(/dmafi\.h:\d+$/);
      expect(chain.at(-1)).toMatch(/edu_zerocopy\.c:\d+$/);
    });

    it.each([
      ['gup_fail', 0, EFAULT],
      ['gup_fail', ENOMEM, ENOMEM],
      ['dma_map_fail', 0, ENOMEM],
      ['dma_map_fail', EIO, EIO],
      ['sg_alloc_fail', 0, ENOMEM],
      ['sg_alloc_fail', EIO, EIO],
      ['kmalloc_fail', 0, ENOMEM],
    ] as const)('%s (errno knob %i) fails the transfer with errno %i and leaves nothing held', async (point, knob, errno) => {
      expect(await xferTo(3000, 3000, point, { nth: 1, times: 1, pid: agentPid, errno: knob })).toEqual([-1, errno]);
      expect(await injected(point)).toBe(1);
      await expectNothingHeld(baseAllocations);
      await expectNoFindings();
      expectQuietConsole(point);
    });

    it('gup_partial pins fewer pages; the driver pins the rest, and the data are intact', async () => {
      const before = (await siteOf('pin_user_pages_fast')).calls;
      await arm('gup_partial', { nth: 1, times: 1, pid: agentPid, pages: 1 });
      await roundTrip(3000, 3000, 11);
      expect(await injected('gup_partial')).toBe(1);
      const pin = await siteOf('pin_user_pages_fast');
      expect(pin.calls - before).toBe(3);
      expect(pin.injected).toBeGreaterThanOrEqual(1);
      await expectNothingHeld(baseAllocations);
      await expectNoFindings();
      expectQuietConsole('gup_partial');
    });

    it('coherent_alloc_fail makes open fail', async () => {
      await arm('coherent_alloc_fail', { nth: 1, times: 1, pid: agentPid });
      expect(await m.call('open', '/dev/edu-dma0', 'rw')).toMatchObject({ ret: -1, errno: ENOMEM });
      expect(await injected('coherent_alloc_fail')).toBe(1);
      await expectNothingHeld(baseAllocations);
      await expectNoFindings();
    });

    it('pageout pauses right before the pin, so that user space can page the buffer out', async () => {

      await withBuffer(async (fd, h) => {
        await m.call('fill', h, 0, 2 * PAGE, 3, 0);
        expect(await m.call('xfer', fd, h, 0, 4000, 0, TO_DEVICE)).toMatchObject({ ret: 0 });
        await arm('pageout', { nth: 1, times: 1, pid: agentPid, timeout_ms: 5000 });
        const r = await m.call('pageout', `${DEBUGFS}/faults/pageout`, h, 0, 4000, 'xfer', fd, h, 0, 4000, 0, FROM_DEVICE);
        expect(r).toMatchObject({ ret: 0, errno: 0 });
        expect(r.payload).toMatch(/^paused=1,resident=0$/);
        expect(await m.call('check', h, 0, 4000, 3, 0)).toMatchObject({ ret: -1, errno: 0 });
      });
      expect(await injected('pageout')).toBe(1);
      await expectNothingHeld(baseAllocations);
      await expectNoFindings();
      expectQuietConsole('pageout');
    });

    it('reports a pin that a leaking driver never releases, at its pin site, on check', async () => {
      const env = await environment(flavour);
      const leaky = await env.driver('leak-one-pin', { faults: false });
      await sh('rmmod edu_dma');
      expect(await lines('held')).toEqual([]);
      await sh(`echo 1 > ${DEBUGFS}/reset`);
      await loadTarget(leaky);
      await roundTrip(100, 3000, 5);
      // Both transfers leak the last (here: the only) page of the range: one page, two pins.
      expect((await ledger()).pinned_pages).toBe(2);
      const held = (await lines('held')).filter((l) => / pin /.test(l));
      expect(held).toEqual([expect.stringMatching(/^\d+ pin size=2 fn=pin_user_pages_fast site=edu_dma\+0x[0-9a-f]+ sym=edu_pinned_get\+/)]);
      await sh(`echo 1 > ${DEBUGFS}/check`);
      const pin = await siteOf('pin_user_pages_fast');
      expect((await lines('findings')).sort((a, b) => a.split(' ')[2]!.localeCompare(b.split(' ')[2]!))).toEqual([
        expect.stringMatching(/^\d held_at_check alloc fn=kmalloc_trace site=edu_dma\+0x[0-9a-f]+ sym=edu_probe\+\S+ count=1 first=\d+$/),
        expect.stringMatching(/^\d held_at_check irq fn=request_threaded_irq site=edu_dma\+0x[0-9a-f]+ sym=edu_probe\+\S+ count=1 first=\d+$/),
        expect.stringMatching(/^\d held_at_check pci_dev fn=pci_dev_get site=edu_dma\+0x[0-9a-f]+ sym=edu_probe\+\S+ count=1 first=\d+$/),
        expect.stringMatching(new RegExp(`^\\d held_at_check pin fn=pin_user_pages_fast site=${pin.site.replace('+', '\\+')} sym=edu_pinned_get\\+\\S+ count=2 first=\\d+$`)),
      ]);
      expectQuietConsole('leak-one-pin');
    });

    it('reports what the target still holds when it is unloaded; dmatap stays loaded until then', async () => {
      // dmatap holds a reference on itself while its target is loaded.
      expect((await m.exec('rmmod dmatap')).code).not.toBe(0);
      await sh(`echo 1 > ${DEBUGFS}/reset`);
      await sh('rmmod edu_dma');
      const pinSite = (await siteOf('pin_user_pages_fast')).site;
      expect(await lines('findings')).toEqual([expect.stringMatching(new RegExp(`^1 held_at_unload pin fn=pin_user_pages_fast site=${pinSite.replace('+', '\\+')} sym=edu_pinned_get\\+\\S+ count=2 `))]);
      await expectNothingHeld(0);
      expectQuietConsole('unload leak-one-pin');
    });

    it('shows pins dropped with put_page() (inline, unseen) as pins never released, at the pin site', async () => {
      const env = await environment(flavour);
      const leaky = await env.driver('put-page-not-unpin', { faults: false });
      await sh(`echo 1 > ${DEBUGFS}/reset`);
      await loadTarget(leaky);
      await roundTrip(100, 3000, 13);
      expect(await lines('sites')).not.toContainEqual(expect.stringMatching(/^unpin_/));
      await sh('rmmod edu_dma');
      const findings = await lines('findings');
      expect(findings).toEqual([expect.stringMatching(/^1 held_at_unload pin fn=pin_user_pages_fast site=edu_dma\+0x[0-9a-f]+ sym=edu_pinned_get\+\S+ count=2 /)]);
      await expectNothingHeld(0);
      expectQuietConsole('unload put-page-not-unpin');
    });

    it('reports the table, pins and page array a failed mapping leaks, each at its own site', async () => {
      const env = await environment(flavour);
      const leaky = await env.driver('map-fail-leak', { faults: false });
      await sh(`echo 1 > ${DEBUGFS}/reset`);
      await loadTarget(leaky);
      expect(await xferTo(3000, 3000, 'dma_map_fail', { nth: 1, times: 1, pid: agentPid, errno: ENOMEM })).toEqual([-1, ENOMEM]);
      expect(await injected('dma_map_fail')).toBe(1);
      await sh('rmmod edu_dma');
      const findings = await lines('findings');
      const kinds = findings.map((l) => l.split(' ').slice(1, 4).join(' ')).sort();
      expect(kinds).toEqual([
        'held_at_unload alloc fn=kvmalloc_node',
        'held_at_unload pin fn=pin_user_pages_fast',
        'held_at_unload sg_table fn=sg_alloc_table_from_pages_segment',
      ]);
      expect(findings.find((l) => / pin /.test(l))).toMatch(/ count=2 /);
      for (const l of findings) expect(l).toMatch(/ site=edu_dma\+0x[0-9a-f]+ sym=edu_\w+\+0x/);
      await expectNothingHeld(0);
      expectQuietConsole('unload map-fail-leak');
    });

    it('counts the references the target takes on PCI devices; one never put is held at unload, at its pci_dev_get site', async () => {
      const refs = async () => (await ledger()).pci_dev_refs;
      await sh(`echo 1 > ${DEBUGFS}/reset`);
      await loadTarget(null);
      // The reference driver holds one while bound; its objects file's search
      // of the edu devices (found, then none: two calls) puts what it finds.
      expect(await refs()).toBe(1);
      await sh('cat /sys/kernel/debug/edu_dma/objects > /dev/null');
      expect(await refs()).toBe(1);
      expect((await sites()).filter((s) => s.fn === 'pci_get_device').reduce((n, s) => n + s.calls, 0)).toBe(2);
      await sh('echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/unbind');
      expect(await refs()).toBe(0);
      await sh('echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/bind');
      expect(await refs()).toBe(1);
      await sh('rmmod edu_dma');
      await expectNoFindings();
      // pci-ref-leak frees its device state without putting the reference: every unbind leaves one.
      const leaky = await (await environment(flavour)).driver('pci-ref-leak', { faults: false });
      await loadTarget(leaky);
      await sh('echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/unbind');
      expect(await refs()).toBe(1);
      await sh('echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/bind');
      expect(await refs()).toBe(2);
      await sh('rmmod edu_dma');
      expect(await lines('findings')).toEqual([expect.stringMatching(/^1 held_at_unload pci_dev fn=pci_dev_get site=edu_dma\+0x[0-9a-f]+ sym=edu_probe\+\S+ count=2 /)]);
      await expectNothingHeld(0);
      expect(await refs()).toBe(0);
      expectQuietConsole('pci-ref-leak');
    });

    it('names a put of a pci_dev reference the target does not hold, at its pci_dev_put site', async () => {
      const refs = async () => (await ledger()).pci_dev_refs;
      await sh(`echo 1 > ${DEBUGFS}/reset`);
      // pci-ref-over-put puts the probe's reference in remove and again in the
      // device state's release. The PCI core holds several, so the guest's
      // count, one too low from here on, reaches no zero: unbound once only.
      await loadTarget(await (await environment(flavour)).driver('pci-ref-over-put', { faults: false }));
      expect(await refs()).toBe(1);
      await sh('echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/unbind');
      const [held, findings] = [await refs(), await lines('findings')];
      await sh('rmmod edu_dma');
      expect(held).toBe(0);
      // The second put is the release's, which the stock build inlines into remove.
      expect(findings).toEqual([expect.stringMatching(/^1 put_not_held pci_dev fn=pci_dev_put site=edu_dma\+0x[0-9a-f]+ sym=edu_(remove|free)\+\S+ count=\d+ reference$/)]);
      await expectNothingHeld(0);
      expectQuietConsole('pci-ref-over-put');
    });

    it('unloads cleanly once no target is loaded, and the stock driver loads again', async () => {
      await loadTarget(null);
      const tapped = await xferCost();
      await sh('rmmod edu_dma && rmmod dmatap');
      await loadTarget(null);
      await roundTrip(0, 2000, 9);
      const plain = await xferCost();
      // Guest time (icount: instructions), not asserted: the price of interception.
      console.log(`one 2-page XFER: ${tapped.elapsed} ns with dmatap (${tapped.cpu} ns CPU), ${plain.elapsed} ns without (${plain.cpu} ns CPU)`);
      expectQuietConsole('dmatap unload');
    });

    // irq_late, through dmatap: the target's hard IRQ handler is dmatap's dt_irq(),
    // which holds one interrupt while the target waits for it (the wait then
    // times out, the engine idle) and hands it to the handler once the next wait
    // begins, after the next DMA has started.
    const ETIMEDOUT = 110;
    const WINDOW = 4095;
    const IRQ_FUNCTIONS = ['request_threaded_irq', 'devm_request_threaded_irq', 'free_irq', 'wait_for_completion_timeout', 'wait_for_completion_interruptible_timeout', 'wait_for_completion_killable_timeout'];

    // A write through one new file, then at once (one guest thread, no idle guest
    // between them, whose clock would jump past the DMA) a read back through
    // another: -1 when the bytes match.
    async function writeReadBack(seed: number): Promise<number> {
      const a = (await m.call('open', '/dev/edu-dma0', 'rw')).ret;
      const b = (await m.call('open', '/dev/edu-dma0', 'rw')).ret;
      const w = (await m.call('alloc', PAGE, 'anon', 'rw')).ret;
      const r = (await m.call('alloc', PAGE, 'anon', 'rw')).ret;
      try {
        await m.call('fill', w, 0, WINDOW, seed, 0);
        await m.call('fill', r, 0, WINDOW, seed ^ 0x55, 0);
        const script = `0 pwrite ${a} ${w} 0 ${WINDOW} 0\n0 pread ${b} ${r} 0 ${WINDOW} 0\n`;
        const race = await m.call('race', Buffer.from(script).toString('hex'));
        expect(race.ret).toBe(2);
        expect(race.payload.split(',').map((l) => l.split(':').slice(0, 2).join(':'))).toEqual([`${WINDOW}:0`, `${WINDOW}:0`]);
        return (await m.call('check', r, 0, WINDOW, seed, 0)).ret;
      } finally {
        await m.call('free', w);
        await m.call('free', r);
        await m.call('close', a);
        await m.call('close', b);
      }
    }

    // A bounce read with irq_late armed: [ret, errno, the caller's buffer kept its bytes].
    async function lateRead(seed: number): Promise<[number, number, boolean]> {
      const fd = (await m.call('open', '/dev/edu-dma0', 'rw')).ret;
      const h = (await m.call('alloc', PAGE, 'anon', 'rw')).ret;
      try {
        await m.call('fill', h, 0, WINDOW, seed, 0);
        expect(await m.call('pwrite', fd, h, 0, WINDOW, 0)).toMatchObject({ ret: WINDOW });
        await m.call('fill', h, 0, WINDOW, seed + 1, 0);
        await arm('irq_late', { nth: 1, times: 1, pid: agentPid });
        const r = await m.call('pread', fd, h, 0, WINDOW, 0);
        const kept = (await m.call('check', h, 0, WINDOW, seed + 1, 0)).ret === -1;
        return [r.ret, r.errno, kept];
      } finally {
        await m.call('free', h);
        await m.call('close', fd);
      }
    }

    it("wraps the target's IRQ handler and tracks the IRQ it requested", async () => {
      await sh('rmmod edu_dma');
      await sh('insmod /tmp/dmatap.ko target=edu_dma');
      await loadTarget(null);
      const hooks = Object.fromEntries((await lines('hooks')).map((l) => l.split(' ')));
      for (const fn of IRQ_FUNCTIONS) expect(hooks[fn], fn).toBe(flavour === 'stock' ? 'ftrace' : 'kprobe');
      expect(await sh(`cat ${DEBUGFS}/faults/summary`)).toMatch(/^irq_late 0 0$/m);
      expect((await ledger()).irqs).toBe(1);
      expect((await lines('held')).filter((l) => / irq /.test(l))).toEqual([expect.stringMatching(/^\d+ irq size=\d+ fn=request_threaded_irq site=edu_dma\+0x[0-9a-f]+ sym=edu_probe\+0x[0-9a-f]+\/0x[0-9a-f]+$/)]);
      baseAllocations = (await ledger()).allocations!;
      await roundTrip(100, 3000, 17);
      expect((await siteOf('wait_for_completion_timeout')).sym).toMatch(/^edu_dma_run\+/);
      await expectNothingHeld(baseAllocations);
      await expectNoFindings();
      expectQuietConsole('irq wrapped');
    });

    it('irq_late: the DMA completes, its interrupt comes late; the call fails with ETIMEDOUT and the next one is right', async () => {
      await sh(`echo 1 > ${DEBUGFS}/reset`);
      expect(await xferTo(100, 3000, 'irq_late', { nth: 1, times: 1, pid: agentPid })).toEqual([-1, ETIMEDOUT]);
      expect(await injected('irq_late')).toBe(1);
      const wait = await siteOf('wait_for_completion_timeout');
      expect(wait.injected).toBe(1);
      expect(wait.sym).toMatch(/^edu_dma_run\+/);
      expect(await sh(`cat ${DEBUGFS}/faults/summary`)).toMatch(/^irq_late \d+ 1$/m);
      // The engine was idle: nothing is quarantined. The held interrupt comes with the next DMA.
      await expectNothingHeld(baseAllocations);
      await roundTrip(100, 3000, 19);
      expect(await writeReadBack(23)).toBe(-1);
      // A failed bounce read leaves the caller's buffer alone.
      expect(await lateRead(29)).toEqual([-1, ETIMEDOUT, true]);
      expect(await injected('irq_late')).toBe(1);
      expect(await writeReadBack(31)).toBe(-1);
      await expectNothingHeld(baseAllocations);
      expect((await ledger()).irqs).toBe(1);
      await expectNoFindings();
      expectQuietConsole('irq_late');
    });

    it('irq_late: an interrupt still held at unbind is not delivered, and the line comes back balanced', async () => {
      expect(await xferTo(100, 3000, 'irq_late', { nth: 1, times: 1, pid: agentPid })).toEqual([-1, ETIMEDOUT]);
      expect(await injected('irq_late')).toBe(1);
      await sh('echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/unbind');
      expect((await ledger()).irqs).toBe(0);
      await sh('echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/bind');
      expect((await ledger()).irqs).toBe(1);
      await roundTrip(0, 2000, 37);
      await expectNothingHeld(baseAllocations);
      await expectNoFindings();
      expectQuietConsole('irq_late at unbind');
    });

    it('irq_late catches stale-completion: the late interrupt ends the next DMA\'s wait at once', async () => {
      const env = await environment(flavour);
      const stale = await env.driver('stale-completion', { faults: false });
      await sh('rmmod edu_dma');
      expect((await ledger()).irqs).toBe(0);
      await sh(`echo 1 > ${DEBUGFS}/reset`);
      await loadTarget(stale);
      expect(await writeReadBack(41)).toBe(-1);
      expect(await xferTo(100, 3000, 'irq_late', { nth: 1, times: 1, pid: agentPid })).toEqual([-1, ETIMEDOUT]);
      expect(await injected('irq_late')).toBe(1);
      expect(await writeReadBack(43)).not.toBe(-1);
      await sh('rmmod edu_dma');
      expect(await lines('findings')).toEqual([]);
      expectQuietConsole('stale-completion');
    });

    it('irq_late catches failed-read-writes-user: a failed read changes the caller\'s buffer', async () => {
      const env = await environment(flavour);
      const bad = await env.driver('failed-read-writes-user', { faults: false });
      await sh(`echo 1 > ${DEBUGFS}/reset`);
      await loadTarget(bad);
      expect(await lateRead(47)).toEqual([-1, ETIMEDOUT, false]);
      expect(await injected('irq_late')).toBe(1);
      await sh('rmmod edu_dma');
      expect(await lines('findings')).toEqual([]);
      await sh('rmmod dmatap');
      await loadTarget(null);
      expectQuietConsole('failed-read-writes-user');
    });
  });
}

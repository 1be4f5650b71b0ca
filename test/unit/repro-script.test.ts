// The reproducer generator: each traced step becomes the C statement that does
// the same, the test's expectations become checks, and what a reproducer
// cannot do is refused with the operation named. Generated files compile.
import { describe, expect, it } from 'vitest';
import { generateScript, steps } from '../../reproduce/script/generate.js';
import { cString } from '../../reproduce/script/steps.js';
import { compileScript } from '../../reproduce/script/verify.js';
import type { FailureFile } from '../../reproduce/failure-file.js';
import { Trace, type TraceEvent } from '../../vm/trace.js';

const DEV = '/sys/kernel/debug/edu_dma/0000:00:01.0';

function trace(build: (t: Trace, reply: (ret: number, errno?: number) => { ret: number; errno: number; payload: string }) => void): TraceEvent[] {
  const t = new Trace();
  build(t, (ret, errno = 0) => ({ ret, errno, payload: '' }));
  return t.events;
}

function call(t: Trace, op: string, args: (string | number)[], reply: { ret: number; errno: number; payload: string }, expectation?: 'ok' | { ret: number; errno: number }) {
  const event = t.call(op, args);
  t.answered(event, reply);
  if (expectation) t.expect(reply, expectation);
}

const failure = {
  format: 'dmafault-failure', version: 1, property: 'faults', profile: 'direct', seed: 1, path: '0',
  counterexample: { op: 'xfer_to', note: 'a /* comment */ inside' }, oracle: { message: 'xfer_to: returned -1 errno 12, expected -1 errno 14' },
  environment: { kernel: '6.1.0-56-amd64', qemu: '7.2.22', accel: 'tcg', driverHash: 'abc', driverVariant: 'x', dmafault: '0.1.0' },
  replay: 'npx dmafault repro f.json', created: '2026-11-21T00:00:00Z',
} as FailureFile;

const sample = trace((t, r) => {
  call(t, 'getpid', [], r(321));
  call(t, 'open', ['/dev/edu-dma0', 'rw'], r(3), 'ok');
  call(t, 'alloc', [8192, 'memfd', 'rw'], r(0), 'ok');
  call(t, 'fill', [0, 0, 8192, 7, 0], r(0), 'ok');
  call(t, 'writefile', [`${DEV}/faults/gup_fail/pid`, Buffer.from('321').toString('hex')], r(3));
  call(t, 'writefile', [`${DEV}/faults/gup_fail/armed`, Buffer.from('1').toString('hex')], r(1));
  call(t, 'writefile', ['/dev/kmsg', Buffer.from('<4>sync\n').toString('hex')], r(8));
  call(t, 'pageout', [`${DEV}/faults/pageout`, 0, 100, 3000, 'xfer', 3, 0, 100, 3000, 0, 1], r(-1, 12), { ret: -1, errno: 14 });
  call(t, 'readfile', [`${DEV}/ledger`], r(10));
  call(t, 'check', [0, 100, 3000, 7, 0], r(-1), { ret: -1, errno: 0 });
  call(t, 'xfer_raw', [3, '0xffff888000001000', 1, 0, 1, 0], r(-1, 14), { ret: -1, errno: 14 });
  const result = { code: 1 };
  t.executed(t.exec('rmmod edu_dma'), result);
  t.expectExit(result, false);
  call(t, 'close', [3], r(0), 'ok');
  const script = ['0 pwrite 3 0 0 10 0', '1 close 3', '4 writefd 7 303030303a30303a30312e30', '1 munmap 0 4096 4096', '0 fork', '2 maptouch 3 77 2', '4 rmmod edu_dma', '4 insmodfd 3', '1@2500000 ping'].join('\n');
  call(t, 'race', [Buffer.from(script).toString('hex')], r(9));
});

describe('steps', () => {
  const body = steps(sample, DEV).join('\n');

  it('writes each step as the system calls that do it, with the recorded result beside it', () => {
    expect(body).toContain('r = fds[3] = open("/dev/edu-dma0", O_RDWR | O_CLOEXEC); /* failing run: 3 */');
    expect(body).toContain('buf_alloc(0, 8192, MEMFD, PROT_READ | PROT_WRITE);');
    expect(body).toContain('r = xfer(fds[3], 0xffff888000001000ULL, 1, 0, 1, 0); /* failing run: -1 EFAULT */');
    expect(body).toContain('r = sh("rmmod edu_dma"); /* failing run: exit status 1 */');
    expect(body).toContain('r = close(fds[3]);');
  });

  it('writes a race as one struct race_step per call, run on a thread per actor', () => {
    expect(body).toContain('{ 0, R_PWRITE, fds[3], { addr(0, 0), 10, 0, 0, 0 }, NULL, 0, 0, 0 },');
    expect(body).toContain('{ 1, R_CLOSE, fds[3], { 0, 0, 0, 0, 0 }, NULL, 0, 0, 0 },');
    expect(body).toContain('{ 4, R_WRITEFD, 7, { 0, 0, 0, 0, 0 }, "0000:00:01.0", 0, 0, 0 },');
    expect(body).toContain('{ 1, R_MUNMAP, -1, { addr(0, 4096), 4096, 0, 0, 0 }, NULL, 0, 0, 0 },');
    expect(body).toContain('{ 2, R_MAPTOUCH, fds[3], { 77, 2, 0, 0, 0 }, NULL, 0, 0, 0 },');
    expect(body).toContain('{ 4, R_RMMOD, -1, { 0, 0, 0, 0, 0 }, "edu_dma", 0, 0, 0 },');
    expect(body).toContain('{ 4, R_INSMODFD, fds[3], { 0, 0, 0, 0, 0 }, NULL, 0, 0, 0 },');
    // A start from the failing run's schedule (ns there, µs here).
    expect(body).toContain('{ 1, R_PING, -1, { 0, 0, 0, 0, 0 }, NULL, 0, 0, 2500 },');
    expect(body).toMatch(/r = race_run\(steps, 9\);/);
  });

  it('arms faults through debugfs with the reproducer\'s own pid', () => {
    expect(body).toContain('r = write_num(DEVICE_DEBUGFS "/faults/gup_fail/pid", getpid());');
    expect(body).toContain('r = write_file(DEVICE_DEBUGFS "/faults/gup_fail/armed", "1");');
  });

  it('turns the test\'s expectations into checks', () => {
    expect(body).toMatch(/pager_start\(&pg, DEVICE_DEBUGFS "\/faults\/pageout", 0, 100, 3000, false\);\n\tr = xfer\(fds\[3\], addr\(0, 100\), 3000, 0, 1, 0\);.*\n\tpager_end\(&pg\);\n\texpect_ret\(r, -1, EFAULT\);/);
    expect(body).toMatch(/r = check\(0, 100, 3000, 7, 0\);.*\n\texpect_match\(r\);/);
    expect(body.match(/expect_ok\(r\);/g)).toHaveLength(4);
    expect(body).toMatch(/r = sh\("rmmod edu_dma"\);.*\n\texpect_exit\(r, false\);/);
  });

  it('leaves out what only the harness needed: reads, console sync markers, getpid', () => {
    expect(body).not.toContain('ledger');
    expect(body).not.toContain('kmsg');
    expect(body).not.toContain('getpid"');
  });

  it('refuses operations a reproducer cannot perform, naming them', () => {
    const events = trace((t, r) => call(t, 'hammer', [3, 0, 0, 10, 0, 5], r(100)));
    expect(() => steps(events, DEV)).toThrow(/"hammer" cannot be written as a standalone reproducer/);
    const bad = trace((t, r) => call(t, 'alloc', [4096, 'weird', 'rw'], r(0)));
    expect(() => steps(bad, DEV)).toThrow(/unknown buffer kind "weird"; expected one of anon, file, memfd, huge, disk/);
  });
});

it('quotes C strings safely', () => {
  expect(cString('a"b\\c\n\x01')).toBe('"a\\"b\\\\c\\n\\x01"');
  expect(cString(`${DEV}/ledger`, DEV)).toBe('DEVICE_DEBUGFS "/ledger"');
});

it('generates a file that compiles with -Wall -Wextra -Werror and keeps comments closed', async () => {
  const source = await generateScript({ failure, events: sample, deviceDebugfs: DEV });
  expect(source).toContain('#define DEVICE_DEBUGFS "/sys/kernel/debug/edu_dma/0000:00:01.0"');
  expect(source).toContain('struct edu_dma_xfer {');
  expect(source).toContain('a / * comment * / inside');
  const binary = await compileScript(source);
  expect(binary.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
});

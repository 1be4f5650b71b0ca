// Error types of dmafault: each has a stable `code` and a message that says what to do next.
// Infrastructure errors (the harness or the host failed) are kept apart from guest
// errors (the kernel under test crashed or misbehaved).

export abstract class DmafaultError extends Error {
  abstract readonly code: string;
  abstract readonly kind: 'infra' | 'guest' | 'usage';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

// Bad input from the user: an option, a fault plan, a failure file.
export class UsageError extends DmafaultError {
  readonly code = 'E_USAGE';
  readonly kind = 'usage';
}

// A host package, download or build step failed.
export class ProvisionError extends DmafaultError {
  readonly code = 'E_PROVISION';
  readonly kind = 'infra';
}

// The guest did not come up; `log` holds the console excerpt.
export class BootError extends DmafaultError {
  readonly code: 'E_BOOT_FAILED' | 'E_BOOT_TIMEOUT';
  readonly kind = 'infra';
  constructor(
    code: 'E_BOOT_FAILED' | 'E_BOOT_TIMEOUT',
    message: string,
    readonly log: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}\n--- console ---\n${log}`, options);
    this.code = code;
  }
}

// The guest kernel reported an Oops, panic, BUG or WARNING on its console.
export class KernelCrashError extends DmafaultError {
  readonly code = 'E_KERNEL_CRASH';
  readonly kind = 'guest';
  constructor(
    readonly title: string,
    readonly log: string,
  ) {
    super(`guest kernel: ${title}\n--- console ---\n${log}`);
  }
}

// QEMU itself failed: "qemu: hardware error", or it exited while the guest was in use.
export class QemuError extends DmafaultError {
  readonly code: 'E_QEMU_HARDWARE' | 'E_QEMU_EXITED';
  readonly kind = 'guest';
  constructor(
    code: 'E_QEMU_HARDWARE' | 'E_QEMU_EXITED',
    message: string,
    readonly log: string,
  ) {
    super(`${message}\n--- qemu ---\n${log}`);
    this.code = code;
  }
}

// The SSH connection or the agent channel went away under us.
export class ConnectionLostError extends DmafaultError {
  readonly code = 'E_CONNECTION_LOST';
  readonly kind = 'infra';
}

// A request to the guest agent never answered.
export class RequestTimeoutError extends DmafaultError {
  readonly code = 'E_REQUEST_TIMEOUT';
  readonly kind = 'guest';
}

// Saving a guest to a snapshot or restoring one failed (QMP, migration, the
// restored guest's checks); a restore that fails falls back to a cold boot.
export class SnapshotError extends DmafaultError {
  readonly code = 'E_SNAPSHOT';
  readonly kind = 'infra';
}

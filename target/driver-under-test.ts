// What the harness needs to know of the driver it tests and of the device that
// driver runs: everything specific to one driver lives behind this interface,
// in one implementation per driver (edu.ts is the first), and nothing here
// depends on any other layer. Paths in the checkout are relative to its root.

export interface PciIdentity {
  // As sysfs prints them (/sys/bus/pci/devices/*/vendor): 0x-prefixed hex.
  readonly vendor: string;
  readonly device: string;
  // Where the device sits in every guest (QEMU places it first on the bus).
  readonly address: string;
}

export interface DriverUnderTest {
  // Short name, for messages.
  readonly name: string;
  // The module's name, as lsmod, /sys/module and its PCI driver call it.
  readonly module: string;
  // The driver's sources in the checkout (a Kbuild directory).
  readonly sourceDir: string;
  // The header of its user API, which the guest agent is built against.
  readonly uapiHeader: string;
  // QEMU arguments that add the device to a guest.
  readonly qemuDevice: readonly string[];
  readonly pci: PciIdentity;
  // The device node the properties open, and the pattern of all of its nodes.
  readonly deviceNode: string;
  readonly deviceNodes: RegExp;
}

// Where a driver's pieces are in a guest, derived from its module name.
export function guestPaths(driver: DriverUnderTest) {
  const { module } = driver;
  return {
    // Where the guest's init script, and the host after a restore, put the module.
    moduleFile: `/lib/dmafault/${module}.ko`,
    pciDriver: `/sys/bus/pci/drivers/${module}`,
    parameters: `/sys/module/${module}/parameters`,
    sysModule: `/sys/module/${module}`,
    debugfs: `/sys/kernel/debug/${module}`,
  } as const;
}

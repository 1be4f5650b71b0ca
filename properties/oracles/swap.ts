// Swap activity, to tell that a requested page-out really happened.
import type { Guest } from '../guest.js';

// Pages swapped in since boot (/proc/vmstat pswpin).
export async function pswpin(guest: Guest): Promise<number> {
  return Number(/^pswpin (\d+)$/m.exec(await guest.readFile('/proc/vmstat'))?.[1] ?? NaN);
}

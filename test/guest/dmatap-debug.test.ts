// dmatap on the debug kernel (lockdep, KASAN, DEBUG_ATOMIC_SLEEP, DMA-API
// debug, kmemleak), which has no ftrace: every hook is a kprobe, whose handler
// runs as an NMI. Named *debug* so that it runs with the other debug files, last.
import { describeDmatap } from './dmatap-cases.js';

describeDmatap('debug');

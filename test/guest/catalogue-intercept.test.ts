// Interception catches what the hooks catch: every stock variant of the
// catalogue, built without hooks (DMAFI=n) and judged through dmatap (run
// --intercept), fails the property its patch names, shrunk, with a replay
// command (not replayed: see catalogue-cases.ts). The two whose bug only a
// late device interrupt brings out (failed-read-writes-user, stale-completion)
// are caught through dmatap's irq_late, which holds the driver's interrupt
// back past its wait and delivers it at the next one.
import { describeCatalogue } from './catalogue-cases.js';

describeCatalogue('stock', { intercept: true });

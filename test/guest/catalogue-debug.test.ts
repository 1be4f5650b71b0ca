// The catalogue's variants that only the kernel's own checkers see (KASAN,
// lockdep, DMA-API debugging, kmemleak): each fails its property on the debug
// flavour, shrunk and replayable (catalogue-cases.ts).
import { describeCatalogue } from './catalogue-cases.js';

describeCatalogue('debug');

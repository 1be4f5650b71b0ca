// dmatap on the stock kernel: its hooks through ftrace, the sg functions of lib/ through kprobes.
import { describeDmatap } from './dmatap-cases.js';

describeDmatap('stock');

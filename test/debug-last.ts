// Test files order: the default order, except that files needing the debug
// kernel flavour (named *debug*) run last, while global-setup.ts's background
// build of that kernel overlaps the stock ones.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export class DebugLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const debug = (f: TestSpecification) => /debug[^/]*\.test\.ts$/.test(f.moduleId);
    return [...sorted.filter((f) => !debug(f)), ...sorted.filter(debug)];
  }
}

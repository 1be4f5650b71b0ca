// Test files order: the default order, except that the Docker tests and then
// the files needing the debug kernel flavour (named *debug*) run last, while
// global-setup.ts's background build of that kernel overlaps the stock ones:
// the Docker tests' two-container suite then has the cores to itself.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export class DebugLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const debug = (f: TestSpecification) => /debug[^/]*\.test\.ts$/.test(f.moduleId);
    const docker = (f: TestSpecification) => /\/docker\.test\.ts$/.test(f.moduleId);
    return [...sorted.filter((f) => !debug(f) && !docker(f)), ...sorted.filter(docker), ...sorted.filter(debug)];
  }
}

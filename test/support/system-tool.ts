// Tests that need a system tool (docker-registry, prometheus, kubectl) skip with a notice where it is
// missing, and fail in CI (CI=true), where .ci/run installs it: a missing tool is never a silent pass.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

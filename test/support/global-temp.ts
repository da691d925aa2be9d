// Every temp folder a test run or a bench run makes (tests, the CLI processes they start, the
// servers) goes below one folder of this run, removed when the run ends: tests that forget to clean
// up, or that are killed by a timeout, leave nothing behind. A run that was itself killed (or a
// runner that skips teardown, as StrykerJS's does) leaves its folder; the next run removes it once
// its process is gone.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Point TMPDIR at a new folder `<prefix><pid>-…` for this process and everything it starts, first
 * removing such folders whose process is gone. Returns what removes it.
 */
export function tempRootForRun(prefix: string): () => void {
  const base = tmpdir();
  const mine = new RegExp(`^${prefix}(\\d+)-`);
  for (const name of readdirSync(base)) {
    const pid = Number(mine.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) rmSync(join(base, name), { recursive: true, force: true });
  }
  const root = mkdtempSync(join(base, `${prefix}${process.pid}-`));
  // os.tmpdir() reads TMPDIR; the test workers and every process they start inherit it.
  process.env.TMPDIR = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
  };
}

export default function setup(): () => void {
  return tempRootForRun('x1deploy-test-run-');
}

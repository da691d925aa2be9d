// Every temp folder a test run makes (tests, the CLI processes they start, the servers) goes below
// one folder of this run, removed when the run ends: tests that forget to clean up, or that are
// killed by a timeout, leave nothing behind. A run that was itself killed (or a runner that skips
// teardown, as StrykerJS's does) leaves its folder; the next run removes it once its process is gone.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'x1deploy-test-run-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default function setup(): () => void {
  const base = tmpdir();
  for (const name of readdirSync(base)) {
    const pid = Number(/^x1deploy-test-run-(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) rmSync(join(base, name), { recursive: true, force: true });
  }
  const root = mkdtempSync(join(base, `${PREFIX}${process.pid}-`));
  // os.tmpdir() reads TMPDIR; the test workers and every process they start inherit it.
  process.env.TMPDIR = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
  };
}

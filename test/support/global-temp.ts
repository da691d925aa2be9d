// Every temp folder a test run makes (tests, the CLI processes they start, the servers) goes below
// one folder of this run, removed when the run ends: tests that forget to clean up, or that are
// killed by a timeout, leave nothing behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'x1deploy-test-run-'));
  // os.tmpdir() reads TMPDIR; the test workers and every process they start inherit it.
  process.env.TMPDIR = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
  };
}

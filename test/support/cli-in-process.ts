// The CLI in this process (runCli), its output captured: fast, and measured by coverage.
import { vi } from 'vitest';
import { runCli } from '../../src/cli/index.js';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cliInProcess(args: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await runCli(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

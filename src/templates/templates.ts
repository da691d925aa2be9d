// Files copied from templates/ into a new gitops repo, with {{placeholders}} filled in.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the same from src/ (tests, tsx) and dist/cli/chunks/ (the installed bin's bundle). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('x1deploy is installed without its package.json; reinstall it');
    dir = up;
  }
  return dir;
}

export async function readTemplate(name: string, values: Readonly<Record<string, string>>): Promise<string> {
  const text = await readFile(join(packageRoot(), 'templates', name), 'utf8');
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** x1deploy's own version, from its package.json. */
export async function packageVersion(): Promise<string> {
  return (JSON.parse(await readFile(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The pull request check: it runs the x1deploy image when one is configured (jobs.image, pinned by
 * digest), else this x1deploy version from the npm registry.
 */
export async function renderVerifyWorkflow(image: string | undefined): Promise<string> {
  const steps = image === undefined
    ? await readTemplate('verify-steps-npm.yaml', { x1deployVersion: await packageVersion() })
    : await readTemplate('verify-steps-image.yaml', { image });
  return readTemplate('verify-workflow.yaml', { verifySteps: steps.trimEnd() });
}

// The layers of src/ hold (DESIGN.md): checked with dependency-cruiser and the project's own rules
// in .dependency-cruiser.cjs, and the rules themselves are shown to catch a violation.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

function cruise(cwd: string, paths: readonly string[]): Violation[] {
  const config = join(ROOT, '.dependency-cruiser.cjs');
  const r = spawnSync(process.execPath, [DEPCRUISE, ...paths, '--config', config, '--output-type', 'json'], { cwd, encoding: 'utf8' });
  if (r.stdout.trim() === '') throw new Error(`dependency-cruiser printed nothing: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('layers', () => {
  it('src/ and charts-src/ import only downward, through faces, without cycles', () => {
    const violations = cruise(ROOT, ['src', 'charts-src']);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('the rules catch an upward import, a reach past a face, a use case importing another, and a cycle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'x1deploy-test-layers-'));
    temps.push(dir);
    const file = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    file('src/deploy/index.ts', "export { deploy } from './deploy.js';\n");
    file('src/deploy/deploy.ts', "import { reap } from '../reap/index.js';\nexport const deploy = () => reap;\n");
    file('src/reap/index.ts', "export { reap } from './reap.js';\n");
    file('src/reap/reap.ts', 'export const reap = 1;\n');
    file('src/spec/names.ts', "import { deploy } from '../deploy/deploy.js';\nexport const names = deploy;\n");
    file('src/records/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n");
    file('src/records/b.ts', "import { a } from './a.js';\nexport const b = () => a;\n");
    const found = cruise(dir, ['src']).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'layer-foundation: src/spec/names.ts → src/deploy/deploy.ts',
        'faces-only: src/spec/names.ts → src/deploy/deploy.ts',
        'use-cases-independent: src/deploy/deploy.ts → src/reap/index.ts',
        'no-circular: src/records/a.ts → src/records/b.ts',
      ]),
    );
  });
});

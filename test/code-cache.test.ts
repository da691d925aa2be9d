import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUNDLE_HEAD, BUNDLE_TAIL, loadWithCodeCache } from '../src/cli/code-cache.js';

const ROOT = join(import.meta.dirname, '..');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A bundle as the bin ships one: CommonJS, requiring a built-in, and importing an ES-module-only
 * package (octokit, as the leader does) through the importer its build rewrites import() to.
 */
function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'x1-code-cache-'));
  dirs.push(dir);
  const bundle = join(dir, 'bundle.cjs');
  writeBundle(
    bundle,
    "const { basename } = require('node:path');\nexports.name = basename(__filename);\nexports.load = async () => ({ answer: typeof (await x1deployImport('@octokit/rest')).Octokit === 'function' ? 42 : 0 });\nexports.where = () => new Error('here').stack;\n",
  );
  return { dir, bundle, cacheDir: join(dir, 'cache') };
}

/** A bundle's file as the build writes one: its code inside the loader's function. */
function writeBundle(file: string, code: string): void {
  writeFileSync(file, `${BUNDLE_HEAD}${code}${BUNDLE_TAIL}`);
}

/** Load the bundle in a process of its own (the cache is written as the process exits). */
function loadIn(bundle: string, cacheDir: string): { cache: string; name: string; answer: number; where: string } {
  const script = `
    import { loadWithCodeCache } from ${JSON.stringify(join(ROOT, 'src/cli/code-cache.ts'))};
    const { exports, cache } = loadWithCodeCache(${JSON.stringify(bundle)}, ${JSON.stringify(cacheDir)});
    const { answer } = await exports.load();
    console.log(JSON.stringify({ cache, name: exports.name, answer, where: exports.where() }));`;
  return JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }),
  ) as never;
}

describe('a bundle loaded through V8’s code cache', () => {
  it('runs as required code does, is cached after its first run, and is read from the cache after', () => {
    const { bundle, cacheDir } = fixture();
    const first = loadIn(bundle, cacheDir);
    // __filename, require and an import of an ES module package work, and stack traces name the file.
    expect(first).toMatchObject({ cache: 'none', name: 'bundle.cjs', answer: 42 });
    expect(first.where).toContain(`${bundle}:4`);
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^bundle\.cjs\.[0-9a-f]{20}\.bin$/);
    expect(statSync(join(cacheDir, files[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const written = statSync(join(cacheDir, files[0]!)).mtimeMs;
    expect(loadIn(bundle, cacheDir)).toMatchObject({ cache: 'hit', answer: 42 });
    // A hit writes nothing.
    expect(statSync(join(cacheDir, files[0]!)).mtimeMs).toBe(written);
  });

  it('refuses a damaged cache, still runs, and writes a good one; a changed bundle gets its own and drops the old', () => {
    const { bundle, cacheDir } = fixture();
    loadIn(bundle, cacheDir);
    const [file] = readdirSync(cacheDir);
    writeFileSync(join(cacheDir, file!), 'not a code cache');
    expect(loadIn(bundle, cacheDir)).toMatchObject({ cache: 'rejected', answer: 42 });
    expect(loadIn(bundle, cacheDir)).toMatchObject({ cache: 'hit', answer: 42 });
    writeBundle(bundle, "exports.name = 'v2';\nexports.load = async () => ({ answer: 43 });\nexports.where = () => '';\n");
    expect(loadIn(bundle, cacheDir)).toMatchObject({ cache: 'none', name: 'v2', answer: 43 });
    expect(readdirSync(cacheDir)).toHaveLength(1);
    expect(readdirSync(cacheDir)[0]).not.toBe(file);
  });

  it('refuses a file the build did not write as a bundle, with what to do', () => {
    const { bundle, cacheDir } = fixture();
    writeFileSync(bundle, "exports.name = 'plain';\n");
    expect(() => loadWithCodeCache(bundle, cacheDir)).toThrow(
      /is not a bundle of x1deploy's build: reinstall x1deploy \(in a checkout, run npm run build\)/,
    );
  });

  it('runs when the cache folder cannot be written', () => {
    const { dir, bundle } = fixture();
    const blocked = join(dir, 'a-file');
    writeFileSync(blocked, '');
    // A folder under a file can never be made.
    expect(loadIn(bundle, join(blocked, 'cache'))).toMatchObject({ cache: 'none', answer: 42 });
    expect(loadIn(bundle, join(blocked, 'cache'))).toMatchObject({ cache: 'none', answer: 42 });
  });
});

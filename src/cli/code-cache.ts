// A CommonJS bundle loaded through V8's code cache. Node 20 compiles every module from source at
// every start (Node 22's module.enableCompileCache keeps V8's cache; 20 offers it only to
// vm.Script), and a cold deploy spent ~100 ms of its ~550 compiling the ~2 MB it runs. The cache is
// written once the first run is over, so it holds every function that run compiled, not only the
// top level; it is keyed by the bundle file and the Node build, and V8 refuses one that does not
// fit (then it is written again).
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { userCacheDir } from '../cache-clone/index.js';
import { packageRoot } from '../templates/index.js';

export interface CodeCacheLoad {
  readonly exports: unknown;
  /** Whether V8 took the cached code (`hit`), found none, or refused it (both: it is written on exit). */
  readonly cache: 'hit' | 'none' | 'rejected';
  /** The bundle file as installed and the Node build, hashed: what the cache is for. */
  readonly key: string;
}

/**
 * The paths in the package of the parts the build makes bundles of their own: scripts/bundle-cli.mjs
 * defines `globalThis.X1DEPLOY_…_BUNDLE`; from source (tests) there are none. Read as written,
 * `(globalThis as Bundles).X === undefined ? import(…) : loadBundle(…)`, so the build replaces the
 * name and drops the import of the source it bundled apart.
 */
export interface Bundles {
  readonly X1DEPLOY_LEADER_BUNDLE?: string;
  readonly X1DEPLOY_DEPLOY_BUNDLE?: string;
}

/**
 * How a bundle's file begins and ends (scripts/bundle-cli.mjs writes them): one function, so V8
 * compiles the file's text as it was read. Wrapped at load, its 1.5 MB were copied once more into
 * one flat string before compiling (~4 ms of a cold deploy).
 */
export const BUNDLE_HEAD = '(function (exports, require, module, __filename, __dirname, x1deployImport) {';
export const BUNDLE_TAIL = '\n})';

/** A bundle's exports (its path in the package), compiled through the user's code cache, and its key. */
export function loadBundle<T>(bundle: string): { readonly exports: T; readonly key: string } {
  const { exports, key } = loadWithCodeCache(join(packageRoot(), bundle), join(userCacheDir(), 'v8'));
  return { exports: exports as T, key };
}

/** `file`'s exports, compiled with the cached code kept in `cacheDir` (made or refreshed on exit). */
export function loadWithCodeCache(file: string, cacheDir: string): CodeCacheLoad {
  const bytes = readFileSync(file);
  // ASCII (as esbuild writes all but some regular expressions) reads fastest as latin1.
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  // The file as installed (its size, change time and inode; npm gives every file one modification
  // time), not its 1.5 MB hashed at every start: an install or a build writes a new file. V8 itself
  // refuses a cache whose source differs in length.
  const { size, ctimeMs, ino } = statSync(file);
  const key = createHash('sha1').update(`${process.version} ${process.arch} ${size} ${ctimeMs} ${ino}`).digest('hex').slice(0, 20);
  const name = basename(file);
  const cacheFile = join(cacheDir, `${name}.${key}.bin`);
  const cachedData = readIfThere(cacheFile);
  if (!source.startsWith(BUNDLE_HEAD) || !source.endsWith(BUNDLE_TAIL))
    throw new Error(`${file} is not a bundle of x1deploy's build: reinstall x1deploy (in a checkout, run npm run build)`);
  const script = new Script(source, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'hit';
  if (cache !== 'hit') process.once('exit', () => keepCodeCache(script, cacheFile, name));
  const module = { exports: {} as unknown };
  // Node 20 drops a script's dynamic-import callback when its code comes from the cache, so the
  // bundle's import() calls are rewritten (at build) to this importer, an ES module's own import().
  const importer = (specifier: string) => import(specifier);
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file), importer);
  return { exports: module.exports, cache, key };
}

function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Write the cache aside and rename it in (processes starting together each write a whole one); drop older ones. */
function keepCodeCache(script: Script, cacheFile: string, name: string): void {
  try {
    const dir = dirname(cacheFile);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const aside = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(aside, script.createCachedData(), { mode: 0o600 });
    renameSync(aside, cacheFile);
    for (const old of readdirSync(dir)) if (old.startsWith(`${name}.`) && old !== basename(cacheFile) && !old.endsWith('.tmp')) unlinkSync(join(dir, old));
  } catch {
    // A cache that cannot be written (a read-only home) only costs the next start its compile.
  }
}

// Bundles the CLI into dist/cli/: the entry and one chunk per lazily loaded part, so a cold
// `x1deploy` reads a few files instead of ~700 modules (start-up was mostly module resolution and
// loading). Each command's code is still loaded only when that command runs.
//
// Left out of the bundle, loaded from node_modules when first used: the Kubernetes client (big,
// only for a cluster) and octokit (only for GitHub). They share no library instance with the rest.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const outdir = 'dist/cli';
const LEADER_BUNDLE = 'dist/cli/leader.cjs';
const DEPLOY_BUNDLE = 'dist/cli/deploy.cjs';
// The parts built as bundles of their own, each loaded through V8's code cache (code-cache.ts).
const bundles = {
  'globalThis.X1DEPLOY_LEADER_BUNDLE': JSON.stringify(LEADER_BUNDLE),
  'globalThis.X1DEPLOY_DEPLOY_BUNDLE': JSON.stringify(DEPLOY_BUNDLE),
};

// cdk8s ships its own copy of yaml (a bundled dependency), which every command that renders would
// load beside ours: 160 KB more to compile at start-up. When the two are the same version, cdk8s
// gets ours; otherwise each keeps its own.
const require = createRequire(import.meta.url);
const versionOf = (pkg) => JSON.parse(readFileSync(pkg, 'utf8')).version;
const ourYaml = require.resolve('yaml');
const cdk8sYamlPackage = require.resolve('cdk8s/package.json').replace(/package\.json$/, 'node_modules/yaml/package.json');
const sameYaml = versionOf(require.resolve('yaml/package.json')) === versionOf(cdk8sYamlPackage);
const oneYaml = {
  name: 'one-yaml',
  setup(bundle) {
    if (!sameYaml) return;
    bundle.onResolve({ filter: /^yaml$/ }, (args) => (/[\\/]node_modules[\\/]cdk8s[\\/]/.test(args.importer) ? { path: ourYaml } : undefined));
  },
};
// zod re-exports its ~50 translations of its messages (300 KB, a sixth of what a deploy loads, and
// what tipped its heap into a full collection); x1deploy speaks English and never picks another.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(bundle) {
    bundle.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'x1deploy' } : undefined,
    );
    bundle.onLoad({ filter: /^zod-locales$/, namespace: 'x1deploy' }, () => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(require.resolve('zod/v4/locales/en.js')),
    }));
  },
};
// commander and cdk8s require child_process as they load, for what a deploy never does (run a
// subcommand's executable, load YAML from a URL, run helm); loading it loads net, dgram and more of
// Node's own modules, ~8 ms of a cold deploy. Their copy is required when one of its functions is
// first called.
const childProcessOnUse = {
  name: 'child-process-on-use',
  setup(bundle) {
    bundle.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]/.test(args.importer) ? { path: 'child-process-on-use', namespace: 'x1deploy' } : undefined,
    );
    bundle.onLoad({ filter: /^child-process-on-use$/, namespace: 'x1deploy' }, () => {
      const childProcess = require('node:child_process');
      const lines = Object.keys(childProcess).map((name) =>
        typeof childProcess[name] === 'function' && !/^[A-Z]/.test(name)
          ? `exports.${name} = (...args) => require('node:child_process').${name}(...args);`
          : `Object.defineProperty(exports, '${name}', { enumerable: true, get: () => require('node:child_process').${name} });`,
      );
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};
// What every bundle shares: Node 20, the big clients left in node_modules, readable identifiers.
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['@kubernetes/client-node', '@octokit/*'],
  // Identifiers stay as written, so stack traces remain readable.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  logLevel: 'warning',
  plugins: [oneYaml, zodEnglishOnly],
};
// dist/ holds only this output: nothing stale from an earlier layout may be packed with it.
rmSync('dist', { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { x1deploy: 'src/cli/main.ts' },
  outdir,
  splitting: true,
  format: 'esm',
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as x1deployCreateRequire } from 'node:module'; const require = x1deployCreateRequire(import.meta.url);" },
  // Deploy's program and its leader come from their own bundles (below), not from chunks of this one.
  define: bundles,
});
chmodSync(`${outdir}/x1deploy.js`, 0o755);

// The bin itself (package.json), as CommonJS: a cold deploy ends ~10 ms sooner than from the
// ES module entry, as Node sets up no module loader for it; other commands import that entry.
await build({
  ...common,
  entryPoints: ['src/cli/bin.ts'],
  outfile: `${outdir}/x1deploy.cjs`,
  format: 'cjs',
  define: { ...bundles, 'import.meta.url': 'x1deployModuleUrl' },
  banner: { js: "#!/usr/bin/env node\nvar x1deployModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
chmodSync(`${outdir}/x1deploy.cjs`, 0o755);

// What a deploy runs (its program, and what it runs once it leads), each as one CommonJS file:
// Node 20 can use V8's code cache only for a script it compiles through vm.Script
// (src/cli/code-cache.ts), not for ES modules. Two, so a deploy handed to another process loads
// only the first.
async function codeCachedBundle(entry, file) {
  await build({
    ...common,
    entryPoints: [entry],
    outfile: file,
    format: 'cjs',
    plugins: [...common.plugins, childProcessOnUse],
    // The one module that asks where it is (templates/) finds the package root from this file.
    define: { ...bundles, 'import.meta.url': 'x1deployModuleUrl' },
    banner: { js: "var x1deployModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  // Node 20 loses a cached script's dynamic-import callback, so the bundle's imports (of ES module
  // packages: octokit; and the loader's own, which a bundle loading another one passes on) go
  // through the importer its loader passes in; none may be left behind.
  const code = readFileSync(file, 'utf8')
    .replace(/(?<![\w$.])import\(/g, 'x1deployImport(')
    // All ASCII (esbuild leaves a regular expression's characters as written), so the loader reads it
    // as latin1 straight into a one-byte string; an escape means the same character in a literal.
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (/(?<![\w$.])import\(|import\.meta/.test(code)) throw new Error(`${file} keeps a dynamic import or import.meta that its loader cannot serve`);
  // The function the loader compiles as the file's text (BUNDLE_HEAD and BUNDLE_TAIL in
  // code-cache.ts), starting on the first line so stack traces keep the bundle's line numbers.
  writeFileSync(file, `(function (exports, require, module, __filename, __dirname, x1deployImport) {${code}\n})`);
}
await codeCachedBundle('src/cli/deploy-leader.ts', LEADER_BUNDLE);
await codeCachedBundle('src/cli/deploy-cli.ts', DEPLOY_BUNDLE);

// The bin's path before the bundle. `npx x1deploy` in a checkout installs the checkout into npx's
// cache once, keyed by its path alone, and never re-links its bin (npm/cli#9766): a checkout that
// ran `npx x1deploy` before the bundle keeps a link to this file, so it must go on existing.
const formerBin = 'dist/src/cli/main.js';
mkdirSync('dist/src/cli', { recursive: true });
writeFileSync(formerBin, "#!/usr/bin/env node\nimport '../../cli/x1deploy.js';\n", { mode: 0o755 });

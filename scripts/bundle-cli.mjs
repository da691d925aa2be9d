// Bundles the CLI into dist/cli/: the entry and one chunk per lazily loaded part, so a cold
// `x1deploy` reads a few files instead of ~700 modules (start-up was mostly module resolution and
// loading). Each command's code is still loaded only when that command runs.
//
// Left out of the bundle, loaded from node_modules when first used: the Kubernetes client (big,
// only for a cluster) and octokit (only for GitHub). They share no library instance with the rest.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const outdir = 'dist/cli';
const LEADER_BUNDLE = 'dist/cli/leader.cjs';

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
// dist/ holds only this output: nothing stale from an earlier layout may be packed with it.
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { x1deploy: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@kubernetes/client-node', '@octokit/*'],
  // Identifiers stay as written, so stack traces remain readable.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as x1deployCreateRequire } from 'node:module'; const require = x1deployCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [oneYaml],
  // The deploy leader comes from its own bundle (below), not from a chunk of this one.
  define: { 'globalThis.X1DEPLOY_LEADER_BUNDLE': JSON.stringify(LEADER_BUNDLE) },
});
chmodSync(`${outdir}/x1deploy.js`, 0o755);

// What a deploy runs once it leads, as one CommonJS file: Node 20 can use V8's code cache only for
// a script it compiles through vm.Script (src/cli/code-cache.ts), not for ES modules.
await build({
  entryPoints: { leader: 'src/cli/deploy-leader.ts' },
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@kubernetes/client-node', '@octokit/*'],
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  // The one module that asks where it is (templates/) finds the package root from this file.
  define: { 'import.meta.url': 'x1deployModuleUrl' },
  banner: { js: "var x1deployModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
  plugins: [oneYaml],
});
// Node 20 loses a cached script's dynamic-import callback, so the leader's imports of ES module
// packages (octokit) go through the importer its loader passes in; none may be left behind.
const leaderFile = `${outdir}/leader.cjs`;
const leader = readFileSync(leaderFile, 'utf8')
  .replace(/(?<![\w$.])import\((?=["'])/g, 'x1deployImport(')
  // All ASCII (esbuild leaves a regular expression's characters as written), so the loader reads it
  // as latin1 straight into a one-byte string; an escape means the same character in a literal.
  .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
if (/(?<![\w$.])import\(|import\.meta/.test(leader)) throw new Error(`${leaderFile} keeps a dynamic import or import.meta that its loader cannot serve`);
writeFileSync(leaderFile, leader);

// The bin's path before the bundle. `npx x1deploy` in a checkout installs the checkout into npx's
// cache once, keyed by its path alone, and never re-links its bin (npm/cli#9766): a checkout that
// ran `npx x1deploy` before the bundle keeps a link to this file, so it must go on existing.
const formerBin = 'dist/src/cli/main.js';
mkdirSync('dist/src/cli', { recursive: true });
writeFileSync(formerBin, "#!/usr/bin/env node\nimport '../../cli/x1deploy.js';\n", { mode: 0o755 });

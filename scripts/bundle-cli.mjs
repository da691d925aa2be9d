// Bundles the CLI into dist/cli/: the entry and one chunk per lazily loaded part, so a cold
// `x1deploy` reads a few files instead of ~700 modules (start-up was mostly module resolution and
// loading). Each command's code is still loaded only when that command runs.
//
// Left out of the bundle, loaded from node_modules when first used: the Kubernetes client (big,
// only for a cluster) and octokit (only for GitHub). They share no library instance with the rest.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

const outdir = 'dist/cli';
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
});
chmodSync(`${outdir}/x1deploy.js`, 0o755);

// The bin's path before the bundle. `npx x1deploy` in a checkout installs the checkout into npx's
// cache once, keyed by its path alone, and never re-links its bin (npm/cli#9766): a checkout that
// ran `npx x1deploy` before the bundle keeps a link to this file, so it must go on existing.
const formerBin = 'dist/src/cli/main.js';
mkdirSync('dist/src/cli', { recursive: true });
writeFileSync(formerBin, "#!/usr/bin/env node\nimport '../../cli/x1deploy.js';\n", { mode: 0o755 });

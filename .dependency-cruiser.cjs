// The layers of src/ (DESIGN.md), lowest first; each imports only from the layers below it and
// from its own folder. Checked by test/layers.test.ts (and `npm run lint:layers`).
const LAYERS = [
  ['foundation', ['errors', 'layout', 'spec']],
  ['domain', ['workspace', 'grants', 'records', 'versions', 'status']],
  ['rendering', ['render', 'planning']],
  ['adapters', ['transaction', 'handoff', 'cache-clone', 'gitops', 'git-http', 'isomorphic-git', 'scm', 'cluster', 'k8s', 'registry', 'review', 'templates', 'probe', 'traffic']],
  ['use-cases', ['deploy', 'build', 'reap', 'verify', 'install', 'owners', 'observe', 'doctor']],
  ['shells', ['cli', 'mcp', 'serve']],
];

const folders = (names) => `^src/(${names.join('|')})/`;
const above = (i) => LAYERS.slice(i + 1).flatMap(([, names]) => names);

const layerRules = LAYERS.slice(0, -1).map(([layer, names], i) => ({
  name: `layer-${layer}`,
  comment: `${layer} (${names.join(', ')}) must not import from a higher layer (${above(i).join(', ')})`,
  severity: 'error',
  from: { path: folders(names) },
  to: { path: folders(above(i)) },
}));

module.exports = {

  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'modules must not import each other in a cycle',
      severity: 'error',
      from: { path: '^(src|charts-src)/' },
      to: { circular: true },
    },
    {
      name: 'use-cases-independent',
      comment: 'a use case must not import another use case: share through a lower layer',
      severity: 'error',
      from: { path: '^src/(deploy|build|reap|verify|install|owners|observe|doctor)/' },
      to: { path: '^src/(deploy|build|reap|verify|install|owners|observe|doctor)/', pathNot: '^src/$1/' },
    },
    {
      name: 'faces-only',
      comment: "another folder's module is imported through its index.ts only",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'charts-are-rendering',
      comment: 'charts-src is the rendering layer: it imports nothing from src/',
      severity: 'error',
      from: { path: '^charts-src/' },
      to: { path: '^src/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};

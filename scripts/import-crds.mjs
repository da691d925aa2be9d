// Generates typed cdk8s constructs (imports/) for the custom resources x1deploy renders, from the
// upstream CRD schemas in ../shared/schemas/crds (the same schemas the tests validate against):
// each schema is wrapped in a CustomResourceDefinition and handed to `cdk8s import`.
// ApplicationSet's nested generator forms (matrix, merge), which x1deploy never renders, are left
// out: they repeat every other generator twice and make up most of the schema.
// Run with `npm run import-crds` after updating the schemas; the output is committed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMAS = process.env.X1DEPLOY_SCHEMAS ?? join(ROOT, '..', 'shared', 'schemas', 'crds');

const CRDS = [
  { file: 'certificate-cert-manager-v1', plural: 'certificates' },
  { file: 'gitrepository-source-v1', plural: 'gitrepositories' },
  { file: 'kustomization-kustomize-v1', plural: 'kustomizations' },
  { file: 'appproject-argoproj-v1alpha1', plural: 'appprojects' },
  { file: 'application-argoproj-v1alpha1', plural: 'applications' },
  { file: 'applicationset-argoproj-v1alpha1', plural: 'applicationsets', prune: ['spec.generators.matrix', 'spec.generators.merge'] },
];

function prune(schema, path) {
  const [first, ...rest] = path.split('.');
  let node = schema.properties[first];
  for (const part of rest.slice(0, -1)) node = (node.items ?? node).properties[part];
  delete (node.items ?? node).properties[rest[rest.length - 1]];
}

const work = mkdtempSync(join(tmpdir(), 'x1deploy-crds-'));
try {
  for (const crd of CRDS) {
    const schema = JSON.parse(readFileSync(join(SCHEMAS, `${crd.file}.json`), 'utf8'));
    const [gvk] = schema['x-kubernetes-group-version-kind'];
    delete schema.$schema;
    delete schema['x-kubernetes-group-version-kind'];
    for (const path of crd.prune ?? []) prune(schema, path);
    const file = join(work, `${crd.file}.yaml`);
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${crd.plural}.${gvk.group}` },
        spec: {
          group: gvk.group,
          names: { kind: gvk.kind, plural: crd.plural },
          scope: 'Namespaced',
          versions: [{ name: gvk.version, served: true, storage: true, schema: { openAPIV3Schema: schema } }],
        },
      }),
    );
    const module = `${gvk.group.split('.')[0]}-${gvk.kind.toLowerCase()}`;
    execFileSync(
      join(ROOT, 'node_modules', '.bin', 'cdk8s'),
      ['import', `${module}:=${file}`, '-o', join(ROOT, 'imports'), '-l', 'typescript', '--no-save', '--no-check-upgrade'],
      {
        cwd: work,
        stdio: 'inherit',
      },
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// A folder of generated objects plus the kustomization.yaml that lists them, so `kubectl
// kustomize` (and Flux, and Argo CD) build the folder as it is.
import { manifestYaml } from './manifest-yaml.js';

/** Files by repo-relative path. */
export type RenderedFiles = Map<string, string>;

/** `<kind>-<name>.yaml`: unique however many objects of a kind a folder holds. */
export const kindAndName = (object: Record<string, unknown>) =>
  `${String(object.kind).toLowerCase()}-${(object.metadata as { name: string }).name}.yaml`;

export function objectFolder(
  dir: string,
  header: string,
  objects: readonly Record<string, unknown>[],
  fileName: (object: Record<string, unknown>) => string = kindAndName,
): RenderedFiles {
  const files: RenderedFiles = new Map();
  const names: string[] = [];
  for (const object of objects) {
    const file = fileName(object);
    names.push(file);
    files.set(`${dir}/${file}`, header + manifestYaml(object));
  }
  names.sort();
  files.set(
    `${dir}/kustomization.yaml`,
    header + manifestYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: names }),
  );
  return files;
}

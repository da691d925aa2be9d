/**
 * Test-only validator for the Kubernetes objects x1deploy renders.
 *
 * Two schema sources, best first:
 *  1. 'strict-upstream-schemas': the JSON schemas in `../shared/schemas` beside the repo checkout
 *     (or $X1_SCHEMAS_DIR). They are read at test time and never copied into the project.
 *     `k8s-1.28/` is kubeconform-style "standalone strict": `additionalProperties: false` on every
 *     object, so an unknown or misspelled field is an error, as `kubectl apply --validate=strict` would say.
 *     `crds/` holds the Argo CD, Flux and cert-manager CRD schemas.
 *  2. 'kubernetes-models': the validators bundled with kubernetes-models 4.x (+ @kubernetes-models/*
 *     for the CRDs). Used only when the folder is absent (CI always has it). NOTE: these validators
 *     accept unknown fields and stop at the first error, so this mode catches wrong types and
 *     missing required fields but NOT misspelled field names.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type Format, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

export interface ManifestProblem {
  /** "Kind/name", e.g. "Deployment/api-main". */
  readonly object: string;
  readonly message: string;
}

export interface ManifestValidator {
  /** 'strict-upstream-schemas' when ../shared/schemas was found, else 'kubernetes-models'. */
  readonly mode: string;
  /** [] when valid. */
  validate(object: unknown): ManifestProblem[];
  /** Multi-document YAML; empty documents are skipped. */
  validateYaml(text: string): ManifestProblem[];
}

export const STRICT_MODE = 'strict-upstream-schemas';
export const FALLBACK_MODE = 'kubernetes-models';

export interface LoadOptions {
  /** Override the schema folder; `null` forces the kubernetes-models fallback (used by its own tests). */
  readonly schemasDir?: string | null;
}

let defaultValidator: Promise<ManifestValidator> | undefined;

/** Memoised for the default options: schema compilation is the slow part, so share it per test file. */
export function loadManifestValidator(options?: LoadOptions): Promise<ManifestValidator> {
  if (options !== undefined) return createValidator(options);
  defaultValidator ??= createValidator({});
  return defaultValidator;
}

async function createValidator(options: LoadOptions): Promise<ManifestValidator> {
  const dir = options.schemasDir === undefined ? defaultSchemasDir() : options.schemasDir;
  // An explicitly named folder that is missing is a setup mistake: say so instead of quietly
  // dropping to the weaker fallback.
  const explicit = options.schemasDir !== undefined || (process.env.X1_SCHEMAS_DIR ?? '') !== '';
  if (dir !== null && existsSync(dir)) return new StrictValidator(dir);
  if (dir !== null && explicit) throw new Error(`schemas folder not found: ${dir}`);
  return FallbackValidator.load();
}

/** `$X1_SCHEMAS_DIR`, else `<repoRoot>/../shared/schemas`, where repoRoot holds package.json. */
function defaultSchemasDir(): string {
  const fromEnv = process.env.X1_SCHEMAS_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above test/support');
    dir = parent;
  }
  return path.resolve(dir, '../shared/schemas');
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

interface KubeObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown } | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function label(object: KubeObject): string {
  const kind = typeof object.kind === 'string' ? object.kind : '<no kind>';
  const name = isRecord(object.metadata) && typeof object.metadata.name === 'string' ? object.metadata.name : '<no name>';
  return `${kind}/${name}`;
}

/** Checks every mode does the same way, before any schema is looked at. */
function checkBasics(object: unknown): ManifestProblem[] | { apiVersion: string; kind: string; object: KubeObject } {
  if (!isRecord(object)) {
    const got = object === null ? 'null' : Array.isArray(object) ? 'array' : typeof object;
    return [{ object: '<not an object>', message: `expected a Kubernetes object (a mapping), got ${got}` }];
  }
  const obj = object as KubeObject;
  const problems: ManifestProblem[] = [];
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    problems.push({ object: label(obj), message: 'apiVersion and kind must both be strings' });
  }
  // The schemas leave metadata.name optional (generateName exists), but every object we render
  // must have a name to be applied and diffed by GitOps tools.
  if (!isRecord(obj.metadata) || typeof obj.metadata.name !== 'string' || obj.metadata.name === '') {
    problems.push({ object: label(obj), message: 'metadata.name is required' });
  }
  if (problems.length > 0) return problems;
  return { apiVersion: obj.apiVersion as string, kind: obj.kind as string, object: obj };
}

function noSchema(object: KubeObject, apiVersion: string, kind: string, mode: string): ManifestProblem {
  const hint = apiVersion.startsWith('kustomize.config.k8s.io/')
    ? ' (a kustomization.yaml is not a Kubernetes object; do not validate it here)'
    : '';
  return { object: label(object), message: `no schema for ${apiVersion} ${kind} in ${mode} mode${hint}` };
}

/** "/spec/ports/0/port" -> "spec.ports[0].port"; keys like "app.kubernetes.io/name" are quoted. */
function pointerToPath(pointer: string, extra?: string): string {
  const segments =
    pointer === ''
      ? []
      : pointer
          .slice(1)
          .split('/')
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) segments.push(extra);
  let out = '';
  for (const seg of segments) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(root)' : out;
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur: unknown = root;
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isRecord(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

/**
 * Turns ajv errors into one readable line each. With allErrors, an int-or-string field that gets
 * an object reports "must be string", "must be integer" and "must match exactly one schema";
 * those are folded into one "must be string or integer".
 */
function describeErrors(errors: readonly ErrorObject[], root: unknown, prefix = ''): string[] {
  const folded = new Set<ErrorObject>();
  const unionTypes = new Map<ErrorObject, string[]>();
  for (const e of errors) {
    if (e.keyword !== 'oneOf' && e.keyword !== 'anyOf') continue;
    const branches = errors.filter((b) => b.instancePath === e.instancePath && b.schemaPath.startsWith(`${e.schemaPath}/`));
    if (branches.length > 0 && branches.every((b) => b.keyword === 'type')) {
      branches.forEach((b) => folded.add(b));
      // Types may be lists ("string,null" from the nullable conversion): list each once, null last.
      const types = new Set(branches.flatMap((b) => String(b.params.type).split(',')));
      unionTypes.set(
        e,
        [...types].sort((a, b) => Number(a === 'null') - Number(b === 'null')),
      );
    }
  }
  const lines: string[] = [];
  for (const e of errors) {
    if (folded.has(e)) continue;
    const at = prefix + e.instancePath;
    const got = (): string => {
      const v = valueAt(root, at);
      return v === undefined ? '' : ` (got ${JSON.stringify(v)})`;
    };
    const types = unionTypes.get(e);
    switch (true) {
      case e.keyword === 'additionalProperties':
        lines.push(`${pointerToPath(at, String(e.params.additionalProperty))}: unknown field`);
        break;
      case e.keyword === 'required':
        lines.push(`${pointerToPath(at, String(e.params.missingProperty))}: required field is missing`);
        break;
      case e.keyword === 'enum':
        lines.push(
          `${pointerToPath(at)}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got()}`,
        );
        break;
      case types !== undefined:
        lines.push(`${pointerToPath(at)}: must be ${types.join(' or ')}${got()}`);
        break;
      case e.keyword === 'type': // ajv says "must be string,null" for the nullable conversion
        lines.push(`${pointerToPath(at)}: must be ${String(e.params.type).split(',').join(' or ')}${got()}`);
        break;
      default:
        lines.push(`${pointerToPath(at)}: ${e.message ?? e.keyword}${got()}`);
    }
  }
  return [...new Set(lines)];
}

function validateYamlWith(validator: ManifestValidator, text: string): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  // YAML 1.1, like sigs.k8s.io/yaml in kubectl and Argo CD: an unquoted `yes`/`on` is a boolean
  // there, so a label value rendered that way must fail here too rather than pass as a string.
  parseAllDocuments(text, { version: '1.1' }).forEach((doc, i) => {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) problems.push({ object: `<YAML document ${i + 1}>`, message: err.message });
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // empty document, e.g. a trailing `---`
    problems.push(...validator.validate(value));
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Strict mode: upstream JSON schemas + ajv

/**
 * The only `format`s the schemas use (checked when this was written). Registering them makes ajv
 * enforce what the API server enforces on decode instead of skipping them; any other format makes
 * compilation fail loudly (see the logger below) so a new schema cannot be half-checked.
 */
const KUBERNETES_FORMATS: Record<string, Format> = {
  int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
  // Go int64; JavaScript numbers are exact only up to 2^53, which is all we can check.
  int64: { type: 'number', validate: (n: number) => Number.isSafeInteger(n) },
  // []byte fields (Secret.data, caBundle) are standard base64 with padding.
  byte: { type: 'string', validate: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/ },
  // metav1.Time is RFC 3339.
  'date-time': {
    type: 'string',
    validate: /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)$/,
  },
};

interface Compiled {
  readonly validate: ValidateFunction;
  /** CRD schemas declare `metadata: {type: object}` only, so ObjectMeta is checked separately. */
  readonly checkMetadata: boolean;
}

class StrictValidator implements ManifestValidator {
  readonly mode = STRICT_MODE;
  /** "apps/v1 Deployment" -> schema file. Built from each file's x-kubernetes-group-version-kind. */
  private readonly files = new Map<string, string>();
  private readonly compiled = new Map<string, Compiled>();
  private objectMeta: ValidateFunction | undefined;
  private readonly objectMetaFile: string;
  private readonly ajv = new Ajv({
    // strict: false because the schemas carry OpenAPI extension keywords (x-kubernetes-*) that ajv
    // does not know. The ones that matter are already expressed in JSON Schema by the conversion
    // (int-or-string -> oneOf, preserve-unknown-fields -> no additionalProperties:false). NOT
    // checked: x-kubernetes-validations (CEL rules) and list-type map/set key uniqueness.
    strict: false,
    allErrors: true,
    // The files are trusted data; meta-validating multi-megabyte schemas would only cost time.
    validateSchema: false,
    // Halves compile time (Deployment ~0.5s -> ~0.25s); the generated code is a little slower,
    // which does not matter for a few objects per test.
    code: { optimize: false },
    formats: KUBERNETES_FORMATS,
    logger: {
      log: () => {},
      warn: (...args: unknown[]) => {
        throw new Error(`ajv warning while compiling a Kubernetes schema: ${args.join(' ')}`);
      },
      error: (...args: unknown[]) => {
        throw new Error(`ajv error while compiling a Kubernetes schema: ${args.join(' ')}`);
      },
    },
  });

  constructor(dir: string) {
    // SOURCES.md records where each schema came from; its absence means this is not that folder.
    if (!existsSync(path.join(dir, 'SOURCES.md'))) throw new Error(`${dir} has no SOURCES.md: not the shared schema folder?`);
    for (const sub of ['k8s-1.28', 'crds']) {
      const subdir = path.join(dir, sub);
      if (!existsSync(subdir)) throw new Error(`schemas folder ${dir} has no ${sub}/`);
      for (const name of readdirSync(subdir)
        .filter((n) => n.endsWith('.json'))
        .sort()) {
        const file = path.join(subdir, name);
        const gvks = (JSON.parse(readFileSync(file, 'utf8')) as { 'x-kubernetes-group-version-kind'?: unknown })[
          'x-kubernetes-group-version-kind'
        ];
        if (!Array.isArray(gvks)) continue; // objectmeta-meta-v1.json is a fragment, not a kind
        for (const gvk of gvks as { group: string; version: string; kind: string }[]) {
          const apiVersion = gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`;
          this.files.set(`${apiVersion} ${gvk.kind}`, file);
        }
      }
    }
    this.objectMetaFile = path.join(dir, 'k8s-1.28', 'objectmeta-meta-v1.json');
  }

  private compile(file: string): ValidateFunction {
    return this.ajv.compile(JSON.parse(readFileSync(file, 'utf8')) as object);
  }

  /** Compiled on first use: a Deployment schema alone takes ~0.25s and most tests need few kinds. */
  private schemaFor(apiVersion: string, kind: string): Compiled | undefined {
    const key = `${apiVersion} ${kind}`;
    let entry = this.compiled.get(key);
    if (entry === undefined) {
      const file = this.files.get(key);
      if (file === undefined) return undefined;
      const schema = JSON.parse(readFileSync(file, 'utf8')) as { properties?: { metadata?: { properties?: unknown } } };
      entry = {
        validate: this.ajv.compile(schema),
        checkMetadata: schema.properties?.metadata !== undefined && schema.properties.metadata.properties === undefined,
      };
      this.compiled.set(key, entry);
    }
    return entry;
  }

  validate(input: unknown): ManifestProblem[] {
    const basics = checkBasics(input);
    if (Array.isArray(basics)) return basics;
    const { apiVersion, kind, object } = basics;
    const schema = this.schemaFor(apiVersion, kind);
    if (schema === undefined) return [noSchema(object, apiVersion, kind, this.mode)];
    const messages: string[] = [];
    if (!schema.validate(object)) messages.push(...describeErrors(schema.validate.errors ?? [], object));
    if (schema.checkMetadata) {
      this.objectMeta ??= this.compile(this.objectMetaFile);
      if (!this.objectMeta(object.metadata)) {
        messages.push(...describeErrors(this.objectMeta.errors ?? [], object, '/metadata'));
      }
    }
    return messages.map((message) => ({ object: label(object), message }));
  }

  validateYaml(text: string): ManifestProblem[] {
    return validateYamlWith(this, text);
  }
}

// ---------------------------------------------------------------------------------------------
// Fallback mode: kubernetes-models

interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  // `any`: each class types its own data shape, and we pass whatever the test rendered.
  new (data?: any): { validate(): void };
}

class FallbackValidator implements ManifestValidator {
  readonly mode = FALLBACK_MODE;

  private constructor(private readonly models: Map<string, ModelClass>) {}

  /** Imported lazily so strict mode never loads these packages. */
  static async load(): Promise<FallbackValidator> {
    const [core, apps, batch, networking, rbac, argo, fluxSource, fluxKustomize, certManager] = await Promise.all([
      import('kubernetes-models/v1'),
      import('kubernetes-models/apps/v1'),
      import('kubernetes-models/batch/v1'),
      import('kubernetes-models/networking.k8s.io/v1'),
      import('kubernetes-models/rbac.authorization.k8s.io/v1'),
      import('@kubernetes-models/argo-cd/argoproj.io/v1alpha1'),
      import('@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1'),
      import('@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1'),
      import('@kubernetes-models/cert-manager/cert-manager.io/v1'),
    ]);
    // The kinds x1deploy renders. Each class carries its own apiVersion/kind, so nothing is spelled twice.
    const classes: ModelClass[] = [
      core.ConfigMap,
      core.LimitRange,
      core.Namespace,
      core.ResourceQuota,
      core.Secret,
      core.Service,
      core.ServiceAccount,
      apps.Deployment,
      batch.Job,
      batch.CronJob,
      networking.Ingress,
      networking.NetworkPolicy,
      rbac.Role,
      rbac.RoleBinding,
      argo.Application,
      argo.ApplicationSet,
      argo.AppProject,
      fluxSource.GitRepository,
      fluxKustomize.Kustomization,
      certManager.Certificate,
    ];
    return new FallbackValidator(new Map(classes.map((c) => [`${c.apiVersion} ${c.kind}`, c])));
  }

  validate(input: unknown): ManifestProblem[] {
    const basics = checkBasics(input);
    if (Array.isArray(basics)) return basics;
    const { apiVersion, kind, object } = basics;
    const Model = this.models.get(`${apiVersion} ${kind}`);
    if (Model === undefined) return [noSchema(object, apiVersion, kind, this.mode)];
    try {
      new Model(object).validate();
      return [];
    } catch (err) {
      // @kubernetes-models/validate throws a ValidationError carrying ajv's `errors`.
      const errors = (err as { errors?: ErrorObject[] }).errors;
      const messages = Array.isArray(errors) ? describeErrors(errors, object) : [String(err)];
      return messages.map((message) => ({ object: label(object), message }));
    }
  }

  validateYaml(text: string): ManifestProblem[] {
    return validateYamlWith(this, text);
  }
}

// ---------------------------------------------------------------------------------------------
// Test helpers

/** Throws one error listing every problem in every object, so a failing test shows them all at once. */
export function expectValidManifests(validator: ManifestValidator, objects: unknown[] | string): void {
  const problems = typeof objects === 'string' ? validator.validateYaml(objects) : objects.flatMap((o) => validator.validate(o));
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  - ${p.object}: ${p.message}`);
  throw new Error(`${problems.length} manifest problem(s) [${validator.mode}]:\n${lines.join('\n')}`);
}

/** Runs `kubectl kustomize DIR`; `ran: false` when kubectl is not on PATH. */
export function kubectlKustomize(dir: string): { ran: boolean; output?: string; error?: string } {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (result.error !== undefined) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ran: false, error: 'kubectl is not on PATH' };
    return { ran: true, error: result.error.message };
  }
  if (result.status !== 0) return { ran: true, error: result.stderr.trim() || `kubectl exited with ${result.status}` };
  return { ran: true, output: result.stdout };
}

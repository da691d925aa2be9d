// Every spec file at one commit, parsed with the schemas the commands use, collecting every
// problem instead of stopping at the first: a review shows all of them at once.
import type { z } from 'zod';
import { GrantsFileSchema, type GrantsFile } from '../grants/index.js';
import { appDir, APPS_DIR, GRANTS_FILE, parseRepoPath, WORKSPACE_FILE } from '../layout/index.js';
import {
  AppRecordSchema,
  DeployRecordSchema,
  parseRecord,
  readYamlRecord,
  RecordFileError,
  type DeployRecord,
  type GitopsStore,
} from '../records/index.js';
import { branchSlug, credentialKind, SECRET_REFERENCE } from '../spec/index.js';
import { WorkspaceConfigSchema, type WorkspaceConfig } from '../workspace/index.js';
import type { VerifyProblem } from './problems.js';

const isDeployFile = (path: string) => parseRepoPath(path).kind === 'deploy-record';

export interface Specs {
  /** Undefined when x1deploy.yaml is missing or invalid (reported). */
  readonly workspace: WorkspaceConfig | undefined;
  /** Every deploy.yaml by path, as text. */
  readonly deployTexts: ReadonlyMap<string, string>;
  /** The deploy.yaml files that are valid, by path. */
  readonly records: ReadonlyMap<string, DeployRecord>;
  readonly problems: readonly VerifyProblem[];
}

/** x1deploy.yaml, grants.yaml and every app.yaml and deploy.yaml at `commit`. */
export async function readSpecs(store: GitopsStore, commit: string): Promise<Specs> {
  const problems: VerifyProblem[] = [];
  const parsed = async <S extends z.ZodType>(path: string, schema: S): Promise<z.output<S> | undefined> => {
    const text = await store.readFile(commit, path);
    return text === undefined ? undefined : parseOrReport(path, text, schema, problems);
  };

  const workspaceText = await store.readFile(commit, WORKSPACE_FILE);
  if (workspaceText === undefined) {
    problems.push({
      kind: 'invalid-spec',
      path: WORKSPACE_FILE,
      message: 'is missing: this is not an x1deploy gitops repo ("x1deploy init" creates one)',
    });
  }
  const workspace = workspaceText === undefined ? undefined : parseOrReport(WORKSPACE_FILE, workspaceText, WorkspaceConfigSchema, problems);
  await parsed(GRANTS_FILE, GrantsFileSchema);

  const appFiles = await store.listFiles(commit, APPS_DIR);
  const deployTexts = await readTexts(store, commit, appFiles.filter(isDeployFile));
  const records = new Map<string, DeployRecord>();
  for (const path of appFiles) {
    const where = parseRepoPath(path);
    if (where.kind !== 'app-record') continue;
    const app = await parsed(path, AppRecordSchema);
    const folder = where.app;
    if (app && app.name !== folder)
      problems.push({ kind: 'invalid-spec', path, message: `name is ${app.name} but the file is in ${appDir(folder)}/` });
  }
  for (const [path, text] of deployTexts) {
    const record = parseDeployRecord(path, text, problems);
    if (record) records.set(path, record);
  }
  return { workspace, deployTexts, records, problems };
}

/** The app and slug of an apps/<app>/branches/<slug>/deploy.yaml path. */
export function deployFileParts(path: string): { app: string; slug: string } | undefined {
  const where = parseRepoPath(path);
  return where.kind === 'deploy-record' ? { app: where.app, slug: where.slug } : undefined;
}

/** Every apps/<app>/branches/<slug>/deploy.yaml at `commit`, as text. */
export async function deployFiles(store: GitopsStore, commit: string): Promise<Map<string, string>> {
  return readTexts(store, commit, (await store.listFiles(commit, APPS_DIR)).filter(isDeployFile));
}

async function readTexts(store: GitopsStore, commit: string, paths: readonly string[]): Promise<Map<string, string>> {
  const sorted = [...paths].sort();
  const texts = await Promise.all(sorted.map((p) => store.readFile(commit, p)));
  return new Map(sorted.map((p, i) => [p, texts[i]!]));
}

/** grants.yaml at `commit`: undefined when there is none; problems when it is invalid. */
export async function readGrants(store: GitopsStore, commit: string): Promise<{ grants: GrantsFile | undefined; problems: string[] }> {
  const text = await store.readFile(commit, GRANTS_FILE);
  if (text === undefined) return { grants: undefined, problems: [] };
  try {
    return { grants: parseRecord(GRANTS_FILE, text, GrantsFileSchema), problems: [] };
  } catch (err) {
    if (err instanceof RecordFileError) return { grants: undefined, problems: [...err.problems] };
    throw err;
  }
}

function parseOrReport<S extends z.ZodType>(path: string, text: string, schema: S, problems: VerifyProblem[]): z.output<S> | undefined {
  try {
    return parseRecord(path, text, schema);
  } catch (err) {
    if (!(err instanceof RecordFileError)) throw err;
    for (const message of err.problems) problems.push({ kind: 'invalid-spec', path, message });
    return undefined;
  }
}

function parseDeployRecord(path: string, text: string, problems: VerifyProblem[]): DeployRecord | undefined {
  let data: unknown;
  try {
    data = readYamlRecord(text);
  } catch (err) {
    problems.push({ kind: 'invalid-spec', path, message: `it is not YAML (${(err as Error).message.split('\n')[0]})` });
    return undefined;
  }
  // Before the schema (which refuses them too, less precisely): a secret in git needs rotating.
  const flagged = new Set<string>();
  for (const { version, name, kind } of plainSecrets(data)) {
    flagged.add(`versions.${version}.spec.env.${name}`);
    problems.push({
      kind: 'secret-value',
      path,
      message: `versions[${version}].spec.env.${name} looks like ${kind}; plain values are written to git and the cluster. Put it in the workspace secret, set ${name} to \${${name}}, and rotate it: it stays in the git history`,
    });
  }
  const result = DeployRecordSchema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const at = issue.path.map(String).join('.');
      if (!flagged.has(at)) problems.push({ kind: 'invalid-spec', path, message: `${at || '(top level)'}: ${issue.message}` });
    }
    return undefined;
  }
  const record = result.data;
  const { app, slug } = deployFileParts(path)!;
  const expected = branchSlug(record.app, record.branch);
  if (record.app !== app || record.slug !== slug) {
    problems.push({ kind: 'invalid-spec', path, message: `app/slug say ${record.app}/${record.slug} but the file is in ${app}/${slug}` });
    return undefined;
  }
  if (record.slug !== expected) {
    problems.push({ kind: 'invalid-spec', path, message: `slug must be ${expected}, the slug of branch ${record.branch}` });
    return undefined;
  }
  return record;
}

/** Plain env values in a deploy.yaml's versions that look like credentials (never the values). */
function plainSecrets(data: unknown): { version: number; name: string; kind: string }[] {
  const versions = (data as { versions?: unknown } | null)?.versions;
  if (!Array.isArray(versions)) return [];
  return versions.flatMap((v: unknown, version) => {
    const env = (v as { spec?: { env?: unknown } } | null)?.spec?.env;
    if (env === null || typeof env !== 'object') return [];
    return Object.entries(env as Record<string, unknown>).flatMap(([name, value]) => {
      if (typeof value !== 'string' || SECRET_REFERENCE.test(value)) return [];
      const kind = credentialKind(name, value);
      return kind ? [{ version, name, kind }] : [];
    });
  });
}

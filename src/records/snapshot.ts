// Typed reads of the gitops repo at one commit. Everything a plan needs is read from one commit,
// so a plan never mixes two states of the repo.
import { X1Error } from '../errors/index.js';
import { GrantsFileSchema, type GrantsFile } from '../grants/index.js';
import { APPS_DIR, appRecordPath, branchesDir, deployRecordPath, GRANTS_FILE, WORKSPACE_FILE } from '../layout/index.js';
import { branchSlug, objectName } from '../spec/index.js';
import { WorkspaceConfigSchema, type WorkspaceConfig } from '../workspace/index.js';
import { AppRecordSchema, type AppRecord } from './app-record.js';
import { parseRecord, RecordFileError } from './codec.js';
import { DeployRecordSchema, type DeployRecord } from './deploy-record.js';
import type { GitopsStore } from './gitops-store.js';
import { cachedRecord, rememberRecord, type RecordKind } from './parsed-cache.js';
import type { z } from 'zod';

export class NotInitializedError extends X1Error {
  constructor(file: string) {
    super('invalid', `${file} is missing: this is not an x1deploy gitops repo. Create one with "x1deploy init DIR".`);
  }
}

/** No branch deploy matches the app and branch asked for. */
export class UnknownBranchDeployError extends X1Error {
  constructor(app: string, branch: string) {
    super('invalid', `app ${app} has no branch deploy for branch ${branch}; deploy it first (x1deploy list shows what exists)`);
  }
}

const RECORD_READS_IN_FLIGHT = 64;

export class RepoSnapshot {
  constructor(
    readonly store: GitopsStore,
    readonly commit: string,
  ) {}

  static async atHead(store: GitopsStore): Promise<RepoSnapshot> {
    return new RepoSnapshot(store, await store.head());
  }

  /** A record file parsed and validated, or undefined when there is none (seen before: from the cache). */
  async #record<S extends z.ZodType>(kind: RecordKind, path: string, schema: S): Promise<z.output<S> | undefined> {
    const id = await this.store.fileId?.(this.commit, path);
    if (id !== undefined) {
      const seen = cachedRecord(kind, schema, id);
      if (seen !== undefined) return seen;
    }
    const text = await this.store.readFile(this.commit, path);
    if (text === undefined) return undefined;
    const value = parseRecord(path, text, schema);
    return id === undefined ? value : rememberRecord(kind, schema, id, value);
  }

  async workspace(): Promise<WorkspaceConfig> {
    const config = await this.#record('workspace', WORKSPACE_FILE, WorkspaceConfigSchema);
    if (config === undefined) throw new NotInitializedError(WORKSPACE_FILE);
    return config;
  }

  /** grants.yaml, or undefined when the repo has none (every deploy is then denied). */
  async grants(): Promise<GrantsFile | undefined> {
    return this.#record('grants', GRANTS_FILE, GrantsFileSchema);
  }

  /** Branch deploys that count against maxBranchDeploys: all but each app's default branch. */
  async previewCount(): Promise<number> {
    let count = 0;
    for (const app of await this.apps()) {
      const [record, slugs] = await Promise.all([this.app(app), this.slugs(app)]);
      const defaultSlug = record ? branchSlug(app, record.default_branch) : undefined;
      count += slugs.filter((s) => s !== defaultSlug).length;
    }
    return count;
  }

  /**
   * The other app's branch deploy already named `<app>-<slug>`, if any: object names join app and
   * slug with "-", which both may contain, so two apps can meet on one name.
   */
  async objectNameOwner(app: string, slug: string): Promise<{ app: string; branch: string } | undefined> {
    const name = objectName(app, slug);
    for (const other of await this.apps()) {
      if (other === app || !name.startsWith(`${other}-`)) continue;
      const record = await this.deployRecord(other, name.slice(other.length + 1));
      if (record) return { app: other, branch: record.branch };
    }
    return undefined;
  }

  async apps(): Promise<string[]> {
    return (await this.store.listDir(this.commit, APPS_DIR)).sort();
  }

  async app(name: string): Promise<AppRecord | undefined> {
    return this.#record('app', appRecordPath(name), AppRecordSchema);
  }

  async deployRecord(app: string, slug: string): Promise<DeployRecord | undefined> {
    const path = deployRecordPath(app, slug);
    const record = await this.#record('deploy', path, DeployRecordSchema);
    if (record === undefined) return undefined;
    if (record.app !== app || record.slug !== slug) {
      throw new RecordFileError(path, [`app/slug say ${record.app}/${record.slug} but the file is in ${app}/${slug}`]);
    }
    return record;
  }

  async slugs(app: string): Promise<string[]> {
    return (await this.store.listDir(this.commit, branchesDir(app))).sort();
  }

  /** Every branch deploy in the repo, ordered by app then slug. */
  async allDeployRecords(): Promise<DeployRecord[]> {
    const records: DeployRecord[] = [];
    for (const app of await this.apps()) {
      const slugs = await this.slugs(app);
      const loaded = new Array<DeployRecord | undefined>(slugs.length);
      // A bounded number of reads in flight: each holds its file's raw and inflated bytes, and all
      // 10,000 at once were ~90 MB of buffers alive together (the reads share four I/O threads anyway).
      let next = 0;
      const reader = async () => {
        for (let i = next++; i < slugs.length; i = next++) loaded[i] = await this.deployRecord(app, slugs[i]!);
      };
      await Promise.all(Array.from({ length: Math.min(RECORD_READS_IN_FLIGHT, slugs.length) }, reader));
      for (const r of loaded) if (r) records.push(r);
    }
    return records;
  }
}

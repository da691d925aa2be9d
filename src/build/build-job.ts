// The Kaniko Job for one pending version: its deterministic name, its git context and its object.
import { App } from 'cdk8s';
import { BuildJobChart } from '../../charts-src/build-job-chart.js';
import { BUILD_JOB_LABEL, type KubeObject } from '../cluster/index.js';
import type { Version } from '../records/index.js';
import { parseImageRef } from '../registry/index.js';
import { DNS_LABEL_MAX, hexHash, objectName } from '../spec/index.js';
import { buildNamespace, cacheRepo, type WorkspaceConfig } from '../workspace/index.js';
import { X1Error } from '../errors/index.js';

/** One version waiting for its image. */
export interface BuildTarget {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly version: Version;
  /** The app's source repo (apps/<app>/app.yaml), if it has one. */
  readonly repo: string | undefined;
  /** Set for a version proposed for review: the gitops branch it waits on (built ahead, never recorded). */
  readonly proposal?: string;
}

/** The version cannot be built as requested; recorded as its failure. */
export class NotBuildableError extends X1Error {
  constructor(message: string) {
    super('invalid', message);
  }
}

/**
 * `<app>-<slug>-v<N>-<hash>`, at most 63 characters (the Job name is also a label value). The hash
 * covers what the Job builds, so a branch reaped and deployed again as version 1 of another commit
 * never picks up the old Job's result, while a restarted builder finds the Job it created.
 */
export function buildJobName(target: Pick<BuildTarget, 'app' | 'slug' | 'version'>): string {
  const v = target.version;
  const hash = hexHash(JSON.stringify([target.app, target.slug, v.number, v.commit_sha, v.spec.dockerfile, v.image_ref]), 8);
  const suffix = `-v${v.number}-${hash}`;
  const head = objectName(target.app, target.slug)
    .slice(0, DNS_LABEL_MAX - suffix.length)
    .replace(/-+$/, '');
  return `${head}${suffix}`;
}

export interface GitContext {
  /** Kaniko's `--context`: `git://host/path#refs/heads/<branch>#<commit>`. */
  readonly context: string;
  readonly singleBranch: boolean;
}

/**
 * Kaniko clones `https://` + what follows `git://`, checks out the ref after the first `#` and then
 * the commit after the second. A branch whose name holds a `#` cannot be named that way: the whole
 * repo is cloned and the commit checked out, which builds the same tree.
 */
export function kanikoGitContext(app: string, repo: string | undefined, branch: string, commit: string): GitContext {
  if (repo === undefined) {
    throw new NotBuildableError(
      `app ${app} has no source repo to build from; deploy it again with "repo" (its https:// clone URL), or set apps.sourceRepo in x1deploy.yaml`,
    );
  }
  let url: URL;
  try {
    url = new URL(repo);
  } catch {
    url = new URL('ssh://invalid');
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
    throw new NotBuildableError(
      `app ${app}'s source repo ${repo} cannot be cloned by the build: Kaniko clones over https:// only (the token comes from the build.gitTokenSecret Secret)`,
    );
  }
  const location = `git://${url.host}${url.pathname}`;
  if (branch.includes('#')) return { context: `${location}##${commit}`, singleBranch: false };
  return { context: `${location}#refs/heads/${branch}#${commit}`, singleBranch: true };
}

/** The Kaniko Job that builds `target`'s image and pushes its tag. */
export function buildJobObject(ws: WorkspaceConfig, target: BuildTarget): KubeObject {
  const v = target.version;
  const git = kanikoGitContext(target.app, target.repo, target.branch, v.commit_sha);
  const name = buildJobName(target);
  const registryHost = parseImageRef(v.image_ref).host;
  const chart = new BuildJobChart(new App({ outdir: '/nonexistent' }), 'build', {
    namespace: buildNamespace(ws),
    name,
    labels: {
      'app.kubernetes.io/managed-by': 'x1deploy',
      'app.kubernetes.io/component': 'build',
      'x1.app': target.app,
      'x1.branch': target.slug,
      'x1.version': String(v.number),
    },
    podSelector: { [BUILD_JOB_LABEL]: name },
    annotations: {
      'x1deploy.dev/branch': target.branch,
      'x1deploy.dev/commit': v.commit_sha,
      'x1deploy.dev/image': v.image_ref,
      'x1deploy.dev/dockerfile': v.spec.dockerfile,
    },
    kanikoImage: ws.build.kanikoImage,
    gitContext: git.context,
    singleBranch: git.singleBranch,
    dockerfile: v.spec.dockerfile,
    destination: v.image_ref,
    cacheRepo: cacheRepo(ws),
    insecureRegistries: ws.build.insecureRegistry ? [registryHost] : [],
    imageLabels: { 'org.opencontainers.image.source': target.repo!, 'org.opencontainers.image.revision': v.commit_sha },
    resources: ws.build.resources,
    activeDeadlineSeconds: ws.build.deadlineSeconds,
    backoffLimit: ws.build.backoffLimit,
    ttlSecondsAfterFinished: ws.build.ttlSecondsAfterFinished,
    gitTokenSecret: ws.build.gitTokenSecret,
    registrySecret: ws.build.registrySecret,
  });
  return chart.toJson()[0] as KubeObject;
}

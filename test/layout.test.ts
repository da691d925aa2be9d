// The gitops repo layout: every path x1deploy builds parses back to what built it, and every file
// a real workspace holds is one the layout knows.
import { describe, expect, it } from 'vitest';
import {
  appRecordPath,
  branchDeployDir,
  deployRecordPath,
  GENERATED_DIRS,
  JOBS_DIR,
  OWNER_FILES,
  parseRepoPath,
  proposalBranchName,
  RENDERED_PREVIEW_GLOB,
  RENDERED_SEGMENTS,
  renderedDir,
  repoPathString,
  WORKSPACE_RENDER_DIR,
  type RepoPath,
} from '../src/layout/index.js';
import { deployBranch } from '../src/deploy/index.js';
import { makeWorkspaceRepo, request } from './support/workspace-repo.js';

const samples: RepoPath[] = [
  { kind: 'workspace' },
  { kind: 'grants' },
  { kind: 'readme' },
  { kind: 'owner-file', path: 'CODEOWNERS' },
  { kind: 'owner-file', path: '.gitattributes' },
  { kind: 'owner-file', path: '.gitmodules' },
  { kind: 'owner-file', path: '.github/workflows/x1deploy-verify.yaml' },
  { kind: 'app-record', app: 'api' },
  { kind: 'deploy-record', app: 'api', slug: 'feat-x-abcdefgh' },
  { kind: 'rendered', app: 'api', slug: 'main', file: 'deployment.yaml' },
  { kind: 'workspace-rendered', file: 'kustomization.yaml' },
  { kind: 'bootstrap', file: 'applicationset-ws-demo.yaml' },
  { kind: 'jobs', file: 'cronjob-x1deploy-build.yaml' },
];

describe('repo layout', () => {
  it.each(samples)('round-trips %o', (p) => {
    expect(parseRepoPath(repoPathString(p))).toEqual(p);
  });

  it('builds the paths DESIGN.md names', () => {
    expect(appRecordPath('api')).toBe('apps/api/app.yaml');
    expect(deployRecordPath('api', 's')).toBe('apps/api/branches/s/deploy.yaml');
    expect(branchDeployDir('api', 's')).toBe('apps/api/branches/s');
    expect(renderedDir('api', 's')).toBe('rendered/api/s');
    expect(WORKSPACE_RENDER_DIR).toBe('rendered/_workspace');
    expect(JOBS_DIR).toBe('bootstrap/jobs');
    expect(GENERATED_DIRS).toEqual(['rendered', 'bootstrap']);
    expect(proposalBranchName('api', 's')).toBe('x1deploy/api/s');
  });

  it('names the Argo CD path segments where <app> and <slug> really are', () => {
    const parts = renderedDir('web', 'feat-y').split('/');
    expect(parts[RENDERED_SEGMENTS.app]).toBe('web');
    expect(parts[RENDERED_SEGMENTS.slug]).toBe('feat-y');
    expect(RENDERED_PREVIEW_GLOB.split('/')).toHaveLength(parts.length);
  });

  it('calls anything else under its folders stray, and leaves the rest of the repo alone', () => {
    for (const path of [
      'apps/api/notes.txt',
      'apps/api/branches/s/extra.yaml',
      'rendered/api/s/sub/x.yaml',
      'rendered/x.yaml',
      'bootstrap/other/x.yaml',
    ]) {
      expect(parseRepoPath(path)).toEqual({ kind: 'stray', path });
    }
    expect(parseRepoPath('docs/readme.md')).toEqual({ kind: 'other', path: 'docs/readme.md' });
    expect(parseRepoPath('apps/../grants.yaml')).toEqual({ kind: 'other', path: 'apps/../grants.yaml' });
    expect(parseRepoPath('rendered/_workspace/sub/x.yaml').kind).toBe('stray');
  });

  it('knows every file of a real workspace with a deployed preview', async () => {
    const { store } = await makeWorkspaceRepo();
    await deployBranch(store, request(), { agent: 'agent-7' });
    const files = await store.listFiles(await store.head(), '');
    expect(files.length).toBeGreaterThan(10);
    const unknown = files.filter((f) => ['stray', 'other'].includes(parseRepoPath(f).kind));
    expect(unknown).toEqual([]);
    for (const owner of OWNER_FILES.filter((f) => f !== '.gitmodules')) expect(files).toContain(owner);
  });
});

// The log of a preview (its app container) or of a version's build (the Kaniko container), bounded
// in lines and bytes, scrubbed of credentials, and filtered with a linear-time pattern (RE2).
import { z } from 'zod';
import { workspaceScope } from '../cluster/index.js';
import { InvalidRequestError, X1Error } from '../errors/index.js';
import { RepoSnapshot, UnknownBranchDeployError, type GitopsStore } from '../records/index.js';
import { branchSlug, scrubSecrets, toFieldIssues } from '../spec/index.js';
import { currentVersion, latestVersion } from '../versions/index.js';
import type { ObservePorts } from './live-status.js';
import { PreviewRefSchema } from './live-status.js';

export const MAX_LOG_LINES = 500;
export const MAX_LOG_BYTES = 32 * 1024;

export const LogsRequestSchema = PreviewRefSchema.extend({
  build: z.boolean().optional().describe("The build's log (Kaniko) instead of the running app's."),
  version: z.number().int().min(1).optional().describe('With build: which version (default: the newest).'),
  previous: z.boolean().optional().describe("The app container's previous run: what a crashed container said before it restarted."),
  tail: z.number().int().min(1).max(MAX_LOG_LINES).optional().describe(`Last N lines (default 100, at most ${MAX_LOG_LINES}).`),
  since_seconds: z.number().int().min(1).max(86_400).optional().describe('Only lines from the last N seconds.'),
  grep: z.string().min(1).max(256).optional().describe('Keep only lines matching this RE2 regular expression (case-insensitive).'),
});
export type LogsRequest = z.output<typeof LogsRequestSchema>;

export interface PreviewLogs {
  readonly app: string;
  readonly branch: string;
  readonly source: 'runtime' | 'build';
  readonly version: number;
  readonly pod: string | null;
  readonly container: string;
  readonly previous: boolean;
  readonly lines: readonly string[];
  /** Lines or bytes were cut to the limits. */
  readonly truncated: boolean;
  /** Why there is no live log, when the answer comes from the record instead. */
  readonly note?: string;
}

export class NoLogError extends X1Error {
  constructor(message: string) {
    super('unavailable', message);
  }
}

export async function previewLogs(store: GitopsStore, input: unknown, ports: ObservePorts): Promise<PreviewLogs> {
  const parsed = LogsRequestSchema.safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
  const request = parsed.data;
  const matcher = request.grep === undefined ? undefined : await compileGrep(request.grep);
  const snapshot = await RepoSnapshot.atHead(store);
  const ws = await snapshot.workspace();
  const record = await snapshot.deployRecord(request.app, branchSlug(request.app, request.branch));
  if (!record || record.branch !== request.branch) throw new UnknownBranchDeployError(request.app, request.branch);
  const tail = request.tail ?? 100;
  const source = request.build ? 'build' : 'runtime';
  const version = request.build ? (request.version ?? latestVersion(record).number) : (currentVersion(record)?.number ?? latestVersion(record).number);
  const target = record.versions[version - 1];
  if (!target) throw new InvalidRequestError([{ path: 'version', message: `${record.app} ${record.branch} has versions 1-${record.versions.length}` }]);
  const base = { app: record.app, branch: record.branch, source, version, previous: !!request.previous } as const;
  const fromRecord = (note: string): PreviewLogs => {
    const lines = filter((target.failure ?? '').split('\n').filter(Boolean), matcher, tail);
    return { ...base, pod: null, container: 'kaniko', lines: lines.kept, truncated: lines.truncated, note };
  };

  if ('unavailable' in ports.cluster) {
    if (request.build && target.failure) return fromRecord(`no cluster access (${ports.cluster.unavailable}); this is the log tail the build job recorded`);
    throw new NoLogError(`no cluster access, so no live log: ${ports.cluster.unavailable}`);
  }
  const scope = workspaceScope(ws);
  const seen = await ports.cluster.observe(scope);
  const mine = (o: { app: string; slug: string }) => o.app === record.app && o.slug === record.slug;
  const pods = (request.build ? seen.buildPods : seen.pods).filter((p) => mine(p) && (p.version === undefined || p.version === version));
  const pod = [...pods].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0];
  if (!pod) {
    if (request.build && target.failure) return fromRecord('the build pod is gone (finished Jobs are deleted after a day); this is the log tail the build job recorded');
    throw new NoLogError(
      request.build
        ? `no build pod of version ${version} (not built here, or its Job was cleaned up after it finished)`
        : `no pod of version ${version} is running yet; check branch_deploy_status`,
    );
  }
  const container = request.build ? 'kaniko' : 'app';
  const text = await ports.cluster.podLog(request.build ? scope.buildNamespace : scope.namespace, pod.name, container, {
    tailLines: matcher ? MAX_LOG_LINES : tail,
    limitBytes: MAX_LOG_BYTES,
    previous: !!request.previous,
    ...(request.since_seconds !== undefined ? { sinceSeconds: request.since_seconds } : {}),
  });
  const lines = scrubSecrets(text).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const kept = filter(lines, matcher, tail);
  const bytes = Buffer.byteLength(text) >= MAX_LOG_BYTES;
  return { ...base, pod: pod.name, container, lines: kept.kept, truncated: kept.truncated || bytes };
}

type Matcher = (line: string) => boolean;

async function compileGrep(pattern: string): Promise<Matcher> {
  const { RE2JS } = await import('re2js');
  try {
    const re = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
    return (line) => re.matcher(line).find();
  } catch {
    throw new InvalidRequestError([{ path: 'grep', message: 'is not a valid RE2 regular expression (no backreferences or lookaround)' }]);
  }
}

function filter(lines: readonly string[], matcher: Matcher | undefined, tail: number): { kept: string[]; truncated: boolean } {
  const matching = matcher ? lines.filter(matcher) : [...lines];
  let kept = matching.slice(-tail);
  let truncated = kept.length < matching.length;
  // Bytes last: an agent's context is the scarce thing.
  while (kept.length > 0 && Buffer.byteLength(kept.join('\n')) > MAX_LOG_BYTES) {
    kept = kept.slice(1);
    truncated = true;
  }
  return { kept, truncated };
}

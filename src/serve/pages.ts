// The status page for reviewers and operators: every preview with its state, a page per preview
// with its history and log tail, and the grants. Server-rendered HTML with no outside assets,
// usable without JavaScript; every interpolated value is escaped (hono/html).
import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import { branchHistory, listBranchDeploys } from '../deploy/index.js';
import { X1Error } from '../errors/index.js';
import { liveStatus, previewLogs, workspaceStatuses, type LiveStatus, type ObservePorts } from '../observe/index.js';
import { listGrants } from '../owners/index.js';
import { RepoSnapshot, type GitopsStore } from '../records/index.js';
import { previewHostRegex, prometheusTrafficFor } from '../traffic/index.js';
import type { WorkspaceConfig } from '../workspace/index.js';

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:2rem;color:#1f2328;max-width:72rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#f6f8fa}code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.8rem;overflow:auto;max-height:24rem}
.state{font-weight:600;padding:.1rem .45rem;border-radius:.6rem;white-space:nowrap}
.ready{background:#dafbe1;color:#116329}.degraded,.build-failed{background:#ffebe9;color:#a40e26}
.reaped{background:#eaeef2;color:#57606a}.pending-build,.building,.syncing,.rolling-out{background:#fff8c5;color:#7d4e00}
.muted{color:#57606a}nav a{margin-right:1rem}`;

function page(title: string, body: unknown) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title}</title>
    <style>${raw(STYLE)}</style>
  </head>
  <body>
    <nav><a href="/">Previews</a><a href="/grants">Grants</a></nav>
    ${body}
  </body>
</html>`;
}

function stateBadge(s: Pick<LiveStatus, 'state' | 'reason'>) {
  return html`<span class="state ${s.state}">${s.state}</span>${s.reason ? html` <span class="muted">${s.reason}</span>` : ''}`;
}

/** "3 min ago", "2 h ago", "5 d ago". */
export function age(iso: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 129_600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** Requests per preview host over the last day, from the Prometheus reap.prometheusUrl names. */
interface Traffic {
  readonly counts?: ReadonlyMap<string, number | undefined>;
  /** Why there are no counts: not configured, or the error Prometheus gave. */
  readonly note?: string;
}

async function trafficOf(ws: WorkspaceConfig, urls: readonly string[]): Promise<Traffic> {
  const source = prometheusTrafficFor(ws.reap);
  if (!source) return { note: 'Traffic: set reap.prometheusUrl in x1deploy.yaml to see the requests each preview served.' };
  const hosts = urls.map((url) => new URL(url).hostname);
  try {
    return { counts: await source.requestCounts(hosts, { idleDays: 1, hostRegex: previewHostRegex(ws.workspace) }) };
  } catch (err) {
    if (!(err instanceof X1Error)) throw err;
    return { note: err.message.replace(/; no preview is reaped for idleness: /, '; ') };
  }
}

function trafficCell(traffic: Traffic, url: string) {
  if (!traffic.counts) return html`<span class="muted">?</span>`;
  const count = traffic.counts.get(new URL(url).hostname);
  if (count === undefined) return html`<span class="muted">no data</span>`;
  const rounded = Math.round(count);
  return `${rounded.toLocaleString('en-US')} ${rounded === 1 ? 'request' : 'requests'}`;
}

const previewHref = (app: string, branch: string) => `/preview?app=${encodeURIComponent(app)}&branch=${encodeURIComponent(branch)}`;

export async function overviewPage(c: Context, store: GitopsStore, ports: ObservePorts, now = new Date()) {
  const snapshot = await RepoSnapshot.atHead(store);
  const [ws, count, statuses, listed] = await Promise.all([
    snapshot.workspace(),
    snapshot.previewCount(),
    workspaceStatuses(store, ports),
    listBranchDeploys(store, {}),
  ]);
  const traffic = await trafficOf(ws, listed.map((d) => d.url));
  const byKey = new Map(statuses.map((s) => [`${s.app}/${s.branch}`, s]));
  const observed = statuses[0]?.observed.includes('cluster') ?? !('unavailable' in ports.cluster);
  const rows = listed.map((d) => {
    const s = byKey.get(`${d.app}/${d.branch}`);
    return html`<tr>
      <td>${d.app}</td>
      <td><a href="${previewHref(d.app, d.branch)}">${d.branch}</a></td>
      <td><a href="${d.url}">${d.url}</a></td>
      <td>v${d.version}${d.current_version !== null && d.current_version !== d.version ? html` <span class="muted">(serving v${d.current_version})</span>` : ''}</td>
      <td>${s ? stateBadge(s) : html`<span class="state pending-build">proposed</span>`}${s ? html` <span class="muted">${age(s.since, now)}</span>` : ''}</td>
      <td>${age(d.created_at, now)}</td>
      <td>${age(d.deployed_at, now)} <span class="muted">by ${d.requested_by}</span></td>
      <td>${trafficCell(traffic, d.url)}</td>
    </tr>`;
  });
  const body = html`<h1>Previews of workspace ${ws.workspace.id}</h1>
    <p>
      <strong>${count}</strong> of <strong>${ws.limits.maxBranchDeploys}</strong> preview slots used (default branches not counted).
      ${observed ? '' : html`<span class="muted">The cluster was not observed: states rest on git.</span>`}
    </p>
    ${traffic.note ? html`<p class="muted">${traffic.note}</p>` : ''}
    <table>
      <thead><tr><th>App</th><th>Branch</th><th>URL</th><th>Version</th><th>State</th><th>Age</th><th>Last deploy</th><th>Traffic (24 h)</th></tr></thead>
      <tbody>${listed.length ? rows : html`<tr><td colspan="8" class="muted">No previews yet.</td></tr>`}</tbody>
    </table>`;
  return c.html(page(`x1deploy: ${ws.workspace.id}`, body));
}

export async function previewPage(c: Context, store: GitopsStore, ports: ObservePorts, now = new Date()) {
  const app = c.req.query('app') ?? '';
  const branch = c.req.query('branch') ?? '';
  const [status, history] = await Promise.all([liveStatus(store, { app, branch }, ports), branchHistory(store, app, branch)]);
  let logs: string[] | undefined;
  let logNote: string | undefined;
  try {
    const read = await previewLogs(store, { app, branch, tail: 50, ...(status.state === 'build-failed' ? { build: true } : {}) }, ports);
    logs = [...read.lines];
    logNote = read.note;
  } catch (err) {
    if (!(err instanceof X1Error) || err.kind === 'internal') throw err;
    logNote = err.message;
  }
  const versions = history.versions.map(
    (v) => html`<tr>
      <td>v${v.number}${v.number === history.current_version ? ' (serving)' : ''}</td>
      <td>${v.status}${v.proposed ? ' (proposed)' : ''}</td>
      <td><code>${v.commit_sha.slice(0, 12)}</code></td>
      <td>${v.requested_by}</td>
      <td>${age(v.created_at, now)}</td>
    </tr>`,
  );
  const body = html`<h1>${status.app} <code>${status.branch}</code></h1>
    <p><a href="${status.url}">${status.url}</a></p>
    <table>
      <tbody>
        <tr><th>State</th><td>${stateBadge(status)} <span class="muted">since ${age(status.since, now)}</span></td></tr>
        ${status.message ? html`<tr><th>What</th><td>${status.message}</td></tr>` : ''}
        ${status.fix ? html`<tr><th>Fix</th><td>${status.fix}</td></tr>` : ''}
        <tr><th>Version</th><td>v${status.version}${status.current_version !== null ? ` (serving v${status.current_version})` : ''}</td></tr>
      </tbody>
    </table>
    <h2>History</h2>
    <table>
      <thead><tr><th>Version</th><th>Status</th><th>Commit</th><th>Requested by</th><th>Created</th></tr></thead>
      <tbody>${versions}</tbody>
    </table>
    <h2>${status.state === 'build-failed' ? 'Build log' : 'Log'}</h2>
    ${logs && logs.length ? html`<pre>${logs.join('\n')}</pre>` : ''}
    ${logNote ? html`<p class="muted">${logNote}</p>` : ''}`;
  return c.html(page(`x1deploy: ${status.app} ${status.branch}`, body));
}

export async function grantsPage(c: Context, store: GitopsStore, now = new Date()) {
  const grants = await listGrants(store);
  const rows = grants.map(
    (g) => html`<tr>
      <td>${g.agent}</td><td>${g.app}</td><td><code>${g.branches}</code></td><td>${g.mode}</td>
      <td>${g.granted_by}, ${age(g.granted_at, now)}</td>
      <td>${g.revoked_at ? html`revoked ${age(g.revoked_at, now)}` : 'active'}</td>
    </tr>`,
  );
  const body = html`<h1>Grants</h1>
    <table>
      <thead><tr><th>Agent</th><th>App</th><th>Branches</th><th>Mode</th><th>Granted</th><th>State</th></tr></thead>
      <tbody>${grants.length ? rows : html`<tr><td colspan="6" class="muted">No grants.</td></tr>`}</tbody>
    </table>`;
  return c.html(page('x1deploy: grants', body));
}

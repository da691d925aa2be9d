// /webhooks/github: GitHub tells x1deploy a branch went away (a `delete` event, a closed pull
// request) and the previews of gone branches are reaped at once, instead of at the next daily
// sweep. The signature (X-Hub-Signature-256, HMAC-SHA256 of the raw body) is checked before
// anything is parsed; deliveries are deduplicated by X-GitHub-Delivery. The reap itself keeps the
// reaper's positive-evidence rule: it reaps only branches a listing shows are gone, so a forged or
// stale event can at worst start a sweep that finds nothing to do.
//
// The set of deliveries seen is one replica's: a redelivery that reaches another replica is acted on
// again, which is harmless by construction: a sweep reaps only what a listing shows is gone (a
// second finds nothing), and a followed push deploys a commit the branch already has, which makes
// no commit.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import type { GitopsStore } from '../records/index.js';

export interface WebhookOptions {
  /** X1DEPLOY_GITHUB_WEBHOOK_SECRET. */
  readonly secret: string;
  /** Sweep for previews of gone branches (the reaper, with its listing checks), writing to `store`. */
  readonly reap: (store: GitopsStore) => Promise<{ readonly reaped: number }>;
  /** A push: deploy the branches that follow it (deploy requests with follow: true). */
  readonly follow?: (
    store: GitopsStore,
    push: { readonly repoUrls: readonly string[]; readonly branch: string; readonly sha: string },
  ) => Promise<readonly { readonly outcome: string }[]>;
  /** How long a delivery waits for its sweep before it is answered (GitHub gives up at 10 s). */
  readonly answerWithinMs?: number;
}

const MAX_BODY = 1 << 20;
const REMEMBERED_DELIVERIES = 10_000;

/** `store` is the service's: its writes join the service's group commits. */
export function webhookHandler(options: WebhookOptions, store: GitopsStore) {
  const seen = new Set<string>();
  let sweeping: Promise<{ reaped: number }> | undefined;
  let again = false;

  /** One sweep at a time; deliveries during a sweep ask for one more after it, not one each. */
  const sweep = (): Promise<{ reaped: number }> => {
    if (sweeping) {
      again = true;
      return sweeping;
    }
    sweeping = options.reap(store).finally(() => {
      sweeping = undefined;
      if (again) {
        again = false;
        void sweep();
      }
    });
    return sweeping;
  };

  return async (c: Context): Promise<Response> => {
    const length = Number(c.req.header('content-length') ?? '0');
    if (length > MAX_BODY) return c.json({ error: 'the delivery is larger than 1 MiB', kind: 'invalid' }, 413);
    const raw = Buffer.from(await c.req.arrayBuffer());
    if (raw.length > MAX_BODY) return c.json({ error: 'the delivery is larger than 1 MiB', kind: 'invalid' }, 413);
    if (!validSignature(options.secret, raw, c.req.header('x-hub-signature-256'))) {
      return c.json({ error: 'the X-Hub-Signature-256 does not match this delivery and the webhook secret', kind: 'denied' }, 401);
    }
    const delivery = c.req.header('x-github-delivery') ?? '';
    if (delivery && seen.has(delivery)) return c.json({ delivery, duplicate: true }, 200);
    if (delivery) {
      seen.add(delivery);
      if (seen.size > REMEMBERED_DELIVERIES) seen.delete(seen.values().next().value!);
    }
    const event = c.req.header('x-github-event') ?? '';
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return c.json({ error: 'the delivery is not JSON', kind: 'invalid' }, 400);
    }
    if (event === 'ping') return c.json({ delivery, pong: true });
    if (event === 'push' && options.follow) {
      const ref = typeof payload.ref === 'string' ? payload.ref : '';
      const repo = (payload.repository ?? {}) as Record<string, unknown>;
      if (!ref.startsWith('refs/heads/')) return c.json({ delivery, event, action: 'ignored' }, 202);
      const urls = ['clone_url', 'html_url', 'ssh_url', 'git_url'].map((k) => repo[k]).filter((u): u is string => typeof u === 'string');
      const outcomes = await options.follow(store, { repoUrls: urls, branch: ref.slice('refs/heads/'.length), sha: String(payload.after ?? '') });
      return c.json({ delivery, event, action: 'followed', deployed: outcomes.filter((o) => o.outcome === 'deployed').length, outcomes }, 202);
    }
    const branchGone = (event === 'delete' && payload.ref_type === 'branch') || (event === 'pull_request' && payload.action === 'closed');
    if (!branchGone) return c.json({ delivery, event, action: 'ignored' }, 202);
    // Answer within GitHub's deadline; a longer sweep goes on and its result is in the next reap's report.
    const done = sweep().then(
      (r) => ({ action: 'reaped', reaped: r.reaped }),
      (err: unknown) => ({ action: 'failed', error: err instanceof Error ? err.message : String(err) }),
    );
    const timeout = new Promise<{ action: string }>((r) => setTimeout(() => r({ action: 'sweeping' }), options.answerWithinMs ?? 8000).unref());
    const outcome = await Promise.race([done, timeout]);
    return c.json({ delivery, event, ...outcome }, 202);
  };
}

function validSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  const m = /^sha256=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m || secret === '') return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

// A push that sends what the commit wrote, and nothing else. A generic push (isomorphic-git's)
// walks every tree of the new commit to find what the server lacks: on a gitops repo with 1,000
// previews that is thousands of trees for a commit that wrote ten objects. x1deploy knows exactly
// which objects its commit wrote, on top of a parent the server has, so it packs those and asks
// git-receive-pack (smart HTTP) to move the ref from the parent to the commit: a compare-and-swap
// on the server, as `git push --force-with-lease` does.
import { CheckedHttpClient, collect } from '../git-http/index.js';

export interface RefUpdate {
  /** refs/heads/… */
  readonly ref: string;
  /** The value the server's ref must have now (undefined: any, for a proposal branch we replace). */
  readonly expected: string | undefined;
  readonly oid: string;
}

export type PushOutcome = { readonly ok: true } | { readonly ok: false; readonly moved: boolean; readonly reason: string };

const ZERO = '0'.repeat(40);

export async function pushObjects(
  http: CheckedHttpClient,
  options: { readonly url: string; readonly headers: Record<string, string> },
  update: RefUpdate,
  /** The objects to send, as one pack. */
  pack: Buffer,
): Promise<PushOutcome> {
  const base = options.url.replace(/\/+$/, '');
  const advertised = await advertisedRefs(http, base, options.headers);
  const current = advertised.get(update.ref) ?? ZERO;
  if (update.expected !== undefined && current !== update.expected) {
    return { ok: false, moved: true, reason: `the server's ${update.ref} is at ${current.slice(0, 12)}` };
  }
  const command = pktLine(`${current} ${update.oid} ${update.ref}\0report-status agent=x1deploy\n`);
  const body = Buffer.concat([command, Buffer.from('0000'), pack]);
  const response = await http.request({
    url: `${base}/git-receive-pack`,
    method: 'POST',
    headers: {
      ...options.headers,
      'content-type': 'application/x-git-receive-pack-request',
      accept: 'application/x-git-receive-pack-result',
    },
    body: (async function* () {
      yield body;
    })(),
  });
  const answer = Buffer.concat(await collect(response.body));
  if (response.statusCode !== 200) throw new Error(`git-receive-pack answered HTTP ${response.statusCode}`);
  const lines = pktLines(answer);
  const unpack = lines.find((l) => l.startsWith('unpack '));
  if (unpack !== 'unpack ok') throw new Error(`the server could not store the pushed objects (${unpack ?? 'no report'})`);
  if (lines.includes(`ok ${update.ref}`)) return { ok: true };
  const ng = lines.find((l) => l.startsWith(`ng ${update.ref} `));
  const reason = ng?.slice(`ng ${update.ref} `.length) ?? 'no status for the ref';
  // Lost the race between the listing and the update ("failed to lock", "fetch first", …), unless
  // the server lacks objects below the parent (then a full push is needed).
  return { ok: false, moved: !/missing necessary objects|unpacker error|no status/i.test(reason), reason };
}

/** The server's refs, from GET info/refs?service=git-receive-pack. */
async function advertisedRefs(http: CheckedHttpClient, base: string, headers: Record<string, string>): Promise<Map<string, string>> {
  const response = await http.request({ url: `${base}/info/refs?service=git-receive-pack`, method: 'GET', headers: { ...headers } });
  const text = Buffer.concat(await collect(response.body));
  if (response.statusCode !== 200) throw new Error(`listing the refs to push to answered HTTP ${response.statusCode}`);
  const refs = new Map<string, string>();
  for (const line of pktLines(text)) {
    const m = /^([0-9a-f]{40}) ([^\0\s]+)/.exec(line);
    if (m && m[2]!.startsWith('refs/')) refs.set(m[2]!, m[1]!);
  }
  return refs;
}

function pktLine(payload: string): Buffer {
  const data = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, '0')), data]);
}

/** The payloads of a pkt-line stream, newline trimmed (flush-pkts skipped). */
function pktLines(buf: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 4 <= buf.length;) {
    const length = parseInt(buf.toString('latin1', at, at + 4), 16);
    if (Number.isNaN(length)) throw new Error('the server answered something other than pkt-lines');
    if (length < 4) {
      at += 4;
      continue;
    }
    out.push(buf.toString('utf8', at + 4, at + length).replace(/\n$/, ''));
    at += length;
  }
  return out;
}

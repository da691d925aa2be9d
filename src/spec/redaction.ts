// Redaction, in one place: URLs without their credentials, known secret values removed from
// messages, and credential-shaped text scrubbed from logs.
//
// Build failures are written to the gitops repo, which many people read: a log line that echoes a
// token (a failed clone printing its URL, a RUN step dumping its env) must never get there. The
// builder never reads Secret values, so it cannot look for them by value; it removes anything that
// has the shape of a credential instead, and keeps what a reader needs (digests, commit ids, paths).

import { CREDENTIAL_PATTERNS, userinfoSpans } from './secret-values.js';

export const REDACTED = '[redacted]';

/**
 * Replaced whole: the private key block with its body, a JWT of any payload, and every token shape
 * request validation refuses (the same table, so a shape refused in a request is scrubbed in a log).
 * The "key=value" shape is left to KEYED below, which keeps the key.
 */
const SHAPED: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|$)/g,
  // JSON Web Tokens (service account tokens, registry bearer tokens).
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  ...CREDENTIAL_PATTERNS.filter((p) => p.kind !== 'a password or key assignment').map(
    (p) => new RegExp(p.pattern.source, `${p.pattern.flags.replace('g', '')}g`),
  ),
];

/** The first group (what names the secret) is kept; the value after it is replaced. */
const KEYED: readonly RegExp[] = [
  // Authorization headers, and bare "Bearer …"/"Basic …" credentials.
  /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:basic\s+|bearer\s+|token\s+)?)[^\s"',]+/gi,
  /\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/-]{8,}=*/gi,
  // key=value and "key": "value" where the key names a secret (env dumps, docker config "auth").
  // (The name before the key word is kept as it is: matching it too would make the pattern quadratic.)
  /((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|credentials?|auth)["']?[ \t]{0,8}[:=][ \t]{0,8}["']?)[^\s"',;&]+/gi,
];

// Long runs that mix upper case, lower case and digits are keys or tokens; hex digests and commit
// ids are lower case only, so they survive.
const OPAQUE_RUN = /[A-Za-z0-9+/_-]{32,}={0,2}/g;

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * URL userinfo (user:password@, token@), the password holding "/" or "@" too: from the "://" to the
 * last "@" of the run (userinfoSpans finds them in linear time). Over-redacting a path that holds
 * "@" is the safe side.
 */
function scrubUrlUserinfo(text: string): string {
  let out = '';
  let from = 0;
  for (const { start, lastAt } of userinfoSpans(text)) {
    if (start < from) continue;
    out += `${text.slice(from, start)}${REDACTED}`;
    from = lastAt;
  }
  return out + text.slice(from);
}

/** `text` with every credential-shaped part replaced by [redacted], and terminal escapes removed. */
export function scrubSecrets(text: string): string {
  let out = scrubUrlUserinfo(text.replace(ANSI, '').replace(CONTROL, ''));
  for (const pattern of SHAPED) out = out.replace(pattern, REDACTED);
  for (const pattern of KEYED) out = out.replace(pattern, (_match, keep: string) => `${keep}${REDACTED}`);
  return out.replace(OPAQUE_RUN, (run) => (/[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run) ? REDACTED : run));
}

/** A URL safe to print: user name and password (often a token) removed. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    // Not a URL the WHATWG parser knows (scp-like git@host:path, a plain path): no password field.
    return url.replace(/^[^@/]*:[^@/]*@/, '');
  }
}

/** `text` with every occurrence of each secret replaced, for messages built from server answers. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== undefined && secret !== '') out = out.split(secret).join(REDACTED);
  return out;
}

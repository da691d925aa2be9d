// Plain env values that look like credentials are refused: the agent must put the value in the
// workspace secret store and reference it as ${NAME}. Messages name the kind, never the value.

interface CredentialPattern {
  readonly kind: string;
  readonly pattern: RegExp;
}

const CREDENTIAL_PATTERNS: readonly CredentialPattern[] = [
  { kind: 'a private key block', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/ },
  { kind: 'a GitHub token', pattern: /\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/ },
  { kind: 'a GitLab token', pattern: /\b(glpat|gldt|glrt|glptt|glft|glsoat)-[A-Za-z0-9_-]{20,}/ },
  { kind: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: 'a Slack webhook URL', pattern: /hooks\.slack\.com\/services\/T[A-Za-z0-9_]+\/B[A-Za-z0-9_]+\/[A-Za-z0-9_]+/ },
  { kind: 'an AWS access key id', pattern: /\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/ },
  { kind: 'a Stripe key', pattern: /\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]{16,}/ },
  { kind: 'a Stripe webhook secret', pattern: /\bwhsec_[A-Za-z0-9]{20,}/ },
];

/** Longest userinfo looked at after a "://": a URL's user and password are short. */
export const USERINFO_MAX = 256;
const USERINFO = /^([^\s:/@]*):([^\s@]+)@$/;

/**
 * Where each "://" of `text` has its userinfo: the "@" that ends it, when one comes before any
 * white space and within USERINFO_MAX. Linear: the next "@" and the next white space are found
 * once and reused while the "://" positions move past them.
 */
export function* userinfoSpans(text: string): Generator<{
  readonly start: number;
  readonly end: number;
  /** The last "@" of the same run: a password may hold "@". */ readonly lastAt: number;
}> {
  let nextAt = -1;
  let nextSpace = -1;
  const space = /\s/g;
  for (let at = text.indexOf('://'); at >= 0; at = text.indexOf('://', at + 3)) {
    const start = at + 3;
    if (nextAt < start) nextAt = text.indexOf('@', start);
    if (nextAt < 0) return;
    if (nextSpace < start) {
      space.lastIndex = start;
      nextSpace = space.exec(text)?.index ?? text.length;
    }
    if (nextAt > nextSpace || nextAt - start > USERINFO_MAX) continue;
    yield { start, end: nextAt, lastAt: text.lastIndexOf('@', Math.min(nextSpace - 1, start + USERINFO_MAX)) };
  }
}

/**
 * A password in a URL (`scheme://user:pass@host`, `redis://:pass@host`, a password holding "/"),
 * found in linear time. A port followed by a path with "@" is not a password.
 */
function hasUrlPassword(value: string): boolean {
  for (const { start, end } of userinfoSpans(value)) {
    const m = USERINFO.exec(value.slice(start, end + 1));
    if (m && !/^[0-9]{1,5}(\/|$)/.test(m[2]!)) return true;
  }
  return false;
}

/** Env names whose plain value is a credential whatever it looks like. */
const CREDENTIAL_NAMES = /^(AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)$/;

/**
 * Names that say they hold a secret (`DB_PASSWORD`, `STRIPE_SECRET`, `GITHUB_TOKEN`, `X_API_KEY`,
 * `SIGNING_PRIVATE_KEY`, or just `PASSWORD`): their value must be a ${NAME} reference. Flags,
 * numbers and empty values stay allowed (`REQUIRE_PASSWORD=true`, `TOKEN_BYTES=32` are settings).
 */
const SECRET_NAME = /(?:^|_)(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|ACCESS_KEY)$/i;
const SETTING_VALUE = /^(?:|true|false|yes|no|on|off|[0-9]+)$/i;

/** What kind of credential the value looks like, or undefined when it looks like plain config. */
export function credentialKind(name: string, value: string): string | undefined {
  if (CREDENTIAL_NAMES.test(name) && value.length > 0) return `an AWS secret (${name})`;
  if (SECRET_NAME.test(name) && !SETTING_VALUE.test(value)) return `a secret, by its name (${name})`;
  const kind = CREDENTIAL_PATTERNS.find((p) => p.pattern.test(value))?.kind;
  return kind ?? (hasUrlPassword(value) ? 'a password inside a URL' : undefined);
}

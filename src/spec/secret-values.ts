// Plain env values that look like credentials are refused: the agent must put the value in the
// workspace secret store and reference it as ${NAME}. Messages name the kind, never the value.

/**
 * One credential shape: a distinctive prefix and a bounded body. Bodies are bounded (no open-ended
 * repetition) and prefixes are literal, so each pattern costs at most a constant per position:
 * linear in the value. No leading word boundary: a token glued to a word ("tokenghp_…") is still one.
 */
export interface CredentialPattern {
  readonly kind: string;
  readonly pattern: RegExp;
}

/** The longest value patterns are run on; longer values are refused by size before any pattern. */
export const SCANNED_VALUE_MAX = 32_768;

export const CREDENTIAL_PATTERNS: readonly CredentialPattern[] = [
  { kind: 'a private key block', pattern: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/ },
  { kind: 'a GitHub token', pattern: /gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{30,255}/ },
  { kind: 'a GitLab token', pattern: /(glpat|gldt|glrt|glptt|glft|glsoat)-[A-Za-z0-9_-]{20,255}/ },
  { kind: 'a Slack token', pattern: /xox[abposre]-[A-Za-z0-9-]{10,255}|xapp-[0-9]-[A-Z0-9]{8,32}-[0-9]{8,32}-[A-Za-z0-9]{32,128}/ },
  { kind: 'a Slack webhook URL', pattern: /hooks\.slack\.com\/services\/T[A-Za-z0-9_]{1,64}\/B[A-Za-z0-9_]{1,64}\/[A-Za-z0-9_]{8,64}/ },
  { kind: 'an AWS access key id', pattern: /(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![0-9A-Z])/ },
  { kind: 'a Stripe key', pattern: /(sk|rk)_(live|test)_[A-Za-z0-9]{16,255}/ },
  { kind: 'a Stripe webhook secret', pattern: /whsec_[A-Za-z0-9]{20,255}/ },
  { kind: 'an Anthropic API key', pattern: /sk-ant-[a-z]{3,8}[0-9]{2}-[A-Za-z0-9_-]{32,255}/ },
  { kind: 'an OpenAI API key', pattern: /sk-(proj|svcacct|admin)-[A-Za-z0-9_-]{32,400}|sk-[A-Za-z0-9]{16,64}T3BlbkFJ[A-Za-z0-9]{16,64}/ },
  { kind: 'a Google API key', pattern: /AIza[0-9A-Za-z_-]{35}/ },
  { kind: 'an npm token', pattern: /npm_[A-Za-z0-9]{36}/ },
  { kind: 'a SendGrid API key', pattern: /SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/ },
  { kind: 'a Twilio API key', pattern: /SK[0-9a-f]{32}(?![0-9a-f])/ },
  { kind: 'a JSON Web Token', pattern: /eyJ[A-Za-z0-9_-]{8,1024}\.eyJ[A-Za-z0-9_-]{8,2048}\.[A-Za-z0-9_-]{8,1024}/ },
  { kind: 'an Azure connection string key', pattern: /(AccountKey|SharedAccessKey|SharedAccessSignature)=[A-Za-z0-9+/%=&:-]{20,400}/ },
  { kind: 'Docker registry auth', pattern: /"(auth|identitytoken|password)"[ \t]{0,8}:[ \t]{0,8}"[^"\s]{8,2048}"/ },
  // "password=hunter22", "api_key: abc…" inside a value (a DSN, a query string, a config blob).
  {
    kind: 'a password or key assignment',
    pattern: /(^|[^A-Za-z0-9])(password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)[ \t]{0,4}[=:][ \t]{0,4}[^\s&;,'"$]{4}/i,
  },
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
  return tokenKind(value) ?? (value.length <= SCANNED_VALUE_MAX && hasUrlPassword(value) ? 'a password inside a URL' : undefined);
}

/**
 * What kind of credential a piece of free text (a branch, a path, a name) holds, by its shape
 * alone. Over SCANNED_VALUE_MAX nothing is scanned: the caller's size limit refuses it first.
 */
export function tokenKind(text: string): string | undefined {
  if (text.length > SCANNED_VALUE_MAX) return undefined;
  return CREDENTIAL_PATTERNS.find((p) => p.pattern.test(text))?.kind;
}

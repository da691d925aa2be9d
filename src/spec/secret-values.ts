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
  { kind: 'a password inside a URL', pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/i },
];

/** Env names whose plain value is a credential whatever it looks like. */
const CREDENTIAL_NAMES = /^(AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)$/;

/** What kind of credential the value looks like, or undefined when it looks like plain config. */
export function credentialKind(name: string, value: string): string | undefined {
  if (CREDENTIAL_NAMES.test(name) && value.length > 0) return `an AWS secret (${name})`;
  return CREDENTIAL_PATTERNS.find((p) => p.pattern.test(value))?.kind;
}

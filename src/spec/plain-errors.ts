// Every validation message in plain words. zod's own messages for structural problems ("Invalid
// input: expected string, received number") are replaced here, once for every schema, through
// zod's error map; messages a schema states itself still win. Field paths and examples are added by
// toFieldIssues, which knows where each issue is.
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { credentialKind } from './secret-values.js';

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map of names to values',
  array: 'a list',
  record: 'a map of names to values',
  null: 'null',
  undefined: 'missing',
  bigint: 'a number',
};

function inputWord(input: unknown): string {
  if (input === null) return 'null';
  if (input === undefined) return 'missing';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'number') return Number.isInteger(input) ? 'a number' : 'a decimal number';
  return TYPE_WORDS[typeof input] ?? typeof input;
}

/** The closest known field to an unknown one, when it is a likely typo. */
export function closestField(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === unknown.toLowerCase() ? 0 : distance(unknown, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

function shapeKeys(inst: unknown): string[] {
  const shape = (inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

/** Field names are echoed only when they look like field names (never a pasted value). */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

export const plainErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected} (got ${inputWord(issue.input)})`;
    }
    case 'unrecognized_keys': {
      const known = shapeKeys(issue.inst);
      const parts = issue.keys.map((key) => {
        // A pasted value or a token in the key's place is never echoed.
        if (!FIELD_NAME.test(key) || credentialKind('', key) !== undefined) return '(a name that looks like a value, not shown)';
        const near = closestField(key, known);
        return near ? `"${key}" (did you mean "${near}"?)` : `"${key}"`;
      });
      const list = known.length ? `; the fields are ${known.join(', ')}` : '';
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${parts.join(', ')}: unknown fields are never ignored${list}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return undefined;
  }
};

z.config({ customError: plainErrorMap });

/** A valid value of each request field, for messages. */
const EXAMPLES: Record<string, string> = {
  app: '"api"',
  branch: '"feat/login"',
  commit_sha: 'the full 40-character commit id',
  dockerfile: '"Dockerfile" or "services/api/Dockerfile"',
  ports: '[3000]',
  env: '{"NODE_ENV": "production", "API_KEY": "${API_KEY}"}',
  replicas: '1',
  repo: '"https://github.com/acme/api"',
  resources: '{"cpu": "250m", "memory": "256Mi"}',
  cpu: '"250m" or "1"',
  memory: '"256Mi" or "1Gi"',
  to: '2',
};

/** An example of a valid value for the field at `path`, if one is known. */
export function exampleFor(path: readonly PropertyKey[]): string | undefined {
  const last = [...path].reverse().find((p) => typeof p === 'string');
  return typeof last === 'string' ? EXAMPLES[last] : undefined;
}

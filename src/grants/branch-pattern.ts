// Branch patterns of deploy grants, matched with picomatch:
//   - `*` matches within one "/"-separated part: `feat/*` matches feat/a, not feat/a/b;
//   - `**` crosses parts: `release/**` matches release/1 and release/1/hotfix;
//   - `?`, `[a-z]` and `{a,b}` work as in shell globs;
//   - the lone pattern `*` means every branch (the seed's catch-all), `main` means exactly main.
import picomatch from 'picomatch';
import { z } from 'zod';
import { lazySchema } from '../spec/index.js';

const OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true, noextglob: true, strictSlashes: true };

export const BranchPatternSchema = lazySchema(() =>
  z
    .string()
    .min(1, { message: 'a branch pattern must not be empty' })
    .max(255)
    .refine((p) => !p.startsWith('!'), { message: 'negated patterns are not supported: grant the branches you mean' })
    .refine(
      (p) => {
        try {
          picomatch.makeRe(p, OPTIONS);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'is not a valid glob' },
    ),
);

const compiled = new Map<string, (branch: string) => boolean>();

export function branchMatches(pattern: string, branch: string): boolean {
  if (pattern === '*') return true;
  let matcher = compiled.get(pattern);
  if (!matcher) {
    matcher = picomatch(pattern, OPTIONS);
    compiled.set(pattern, matcher);
  }
  return matcher(branch);
}

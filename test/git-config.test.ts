// The local store's reader of .git/config (gitops/git-config.ts), against what git itself reads.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGitConfig, readGitConfig } from '../src/gitops/git-config.js';
import { tempDir } from './support/workspace-repo.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const CONFIG = [
  '# a comment',
  '[core]',
  '\trepositoryformatversion = 1',
  '\tlogAllRefUpdates = true',
  '\tsplitIndex',
  '[Core]',
  '\tLOGALLREFUPDATES = false # the last one wins',
  '[core "sub"]',
  '\tsplitIndex = false',
  '[splitIndex.sub]',
  '\tmaxPercentChange = 1',
  '[splitIndex]',
  '\tmaxPercentChange = "3\\',
  '0" ; continued, quoted',
  '[extensions]',
  '\tobjectFormat = sha1',
  '[user]',
  '\tname = "A \\"quoted\\" name ; not a comment"',
].join('\n');

describe('git config', () => {
  it('reads sections, keys case-insensitively, bare keys as true, quotes, escapes, comments and continued lines, the last value winning', () => {
    const config = parseGitConfig(CONFIG);
    expect(config.get('core.logallrefupdates')).toBe('false');
    expect(config.get('core.splitindex')).toBe(true);
    expect(config.get('splitindex.maxpercentchange')).toBe('30');
    expect(config.get('extensions.objectformat')).toBe('sha1');
    expect(config.get('user.name')).toBe('A "quoted" name ; not a comment');
    expect(config.get('core.missing')).toBeUndefined();
  });

  it('gives what git gives for the same file', () => {
    const dir = tempDir('x1-config-');
    made.push(dir);
    execFileSync('git', ['init', '-q', dir]);
    writeFileSync(join(dir, '.git', 'config'), `${CONFIG}\n`);
    const ours = readGitConfig(join(dir, '.git'));
    for (const key of ['core.logallrefupdates', 'splitindex.maxpercentchange', 'extensions.objectformat', 'user.name']) {
      const theirs = execFileSync('git', ['-C', dir, 'config', '--get', key], { encoding: 'utf8' }).replace(/\n$/, '');
      expect(ours.get(key), key).toBe(theirs);
    }
    // git reads a bare key as true.
    expect(execFileSync('git', ['-C', dir, 'config', '--type=bool', '--get', 'core.splitindex'], { encoding: 'utf8' }).trim()).toBe('true');
    expect(ours.get('core.splitindex')).toBe(true);
    expect(readGitConfig(join(dir, 'nowhere')).size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { branchDeployNames, branchSlug, isDns1035Label, isDnsLabel, slugBudget, WORKSPACE_HOST_SUFFIX_MAX } from '../src/spec/index.js';

const ws = { id: 'demo', slug: 'demo', domain: 'preview.example.com' };

describe('branchSlug', () => {
  it('keeps a branch that is already a clean label', () => {
    expect(branchSlug('api', 'main')).toBe('main');
    expect(branchSlug('api', 'feat-x')).toBe('feat-x');
    expect(branchSlug('api', '123-fix')).toBe('123-fix');
  });

  it('gives feat/x and feat-x different slugs', () => {
    const a = branchSlug('api', 'feat/x');
    const b = branchSlug('api', 'feat-x');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^feat-x-[a-z2-7]{8}$/);
    expect(isDnsLabel(a)).toBe(true);
  });

  it('is deterministic', () => {
    expect(branchSlug('api', 'Feature/Ünïcode_Name')).toBe(branchSlug('api', 'Feature/Ünïcode_Name'));
  });

  it('hashes uppercase, dots and underscores, which a label cannot hold', () => {
    for (const branch of ['Main', 'release/1.2', 'fix_thing', 'v1.0']) {
      const slug = branchSlug('api', branch);
      expect(slug).not.toBe(branch);
      expect(isDnsLabel(slug)).toBe(true);
    }
    expect(branchSlug('api', 'Main')).not.toBe(branchSlug('api', 'main'));
    expect(branchSlug('api', 'release/1.2')).toMatch(/^release-1-2-[a-z2-7]{8}$/);
  });

  it('folds accents and drops characters with no ASCII form', () => {
    expect(branchSlug('api', 'café/crème')).toMatch(/^cafe-creme-[a-z2-7]{8}$/);
    const onlyCjk = branchSlug('api', '功能/分支');
    expect(onlyCjk).toMatch(/^[a-z2-7]{8}$/);
    expect(branchSlug('api', '功能/分支二')).not.toBe(onlyCjk);
  });

  it('cuts 250-character names to the budget and keeps them distinct', () => {
    const long = 'feature/' + 'a'.repeat(242);
    const other = 'feature/' + 'a'.repeat(241) + 'b';
    const s1 = branchSlug('api', long);
    const s2 = branchSlug('api', other);
    expect(s1.length).toBeLessThanOrEqual(slugBudget('api'));
    expect(s1).not.toBe(s2);
    expect(isDnsLabel(s1)).toBe(true);
  });

  it('hashes a clean name that is longer than the budget', () => {
    const clean = 'a'.repeat(70);
    const slug = branchSlug('api', clean);
    expect(slug.length).toBeLessThanOrEqual(slugBudget('api'));
    expect(slug).not.toBe(branchSlug('api', 'a'.repeat(71)));
  });

  it('never ends the readable part with a dash before the hash', () => {
    const slug = branchSlug('app', 'x'.repeat(49) + '/----y');
    expect(slug).not.toMatch(/--/);
    expect(isDnsLabel(slug)).toBe(true);
  });

  it('keeps every derived name legal for the longest app and a long workspace domain', () => {
    const app = 'a'.repeat(30);
    const longWs = { id: 'w', slug: 'w'.repeat(20), domain: `${'d'.repeat(60)}.${'e'.repeat(60)}.example.com` };
    expect(`${longWs.slug}.${longWs.domain}`.length).toBeLessThanOrEqual(WORKSPACE_HOST_SUFFIX_MAX);
    for (const branch of ['main', 'feature/' + 'x'.repeat(240), 'Z'.repeat(100), '9/9']) {
      const slug = branchSlug(app, branch);
      const names = branchDeployNames(longWs, app, slug);
      expect(isDns1035Label(names.objectName)).toBe(true);
      expect(names.host.length).toBeLessThanOrEqual(253);
      for (const label of names.host.split('.')) expect(label.length).toBeLessThanOrEqual(63);
      expect(slug.length).toBeLessThanOrEqual(63);
    }
  });

  it('derives names, host and URL', () => {
    const names = branchDeployNames(ws, 'api', branchSlug('api', 'feat-x'));
    expect(names).toEqual({
      objectName: 'api-feat-x',
      host: 'feat-x.api.demo.preview.example.com',
      url: 'https://feat-x.api.demo.preview.example.com',
      namespace: 'ws-demo',
    });
  });
});

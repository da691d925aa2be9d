// The fast manifest writer writes what the `yaml` library writes, byte for byte: on rendered
// objects, and on random documents of every shape it handles or hands over.
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { newBranchDeploy } from '../src/deploy/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';
import { branchDeployObjects, renderBootstrap, renderJobsBootstrap, renderWorkspace } from '../src/render/index.js';
import { manifestYaml, plainShape } from '../src/render/manifest-yaml.js';
import { branchSlug, deployRequestSchema } from '../src/spec/index.js';

const library = (v: unknown) => stringify(v, { lineWidth: 0 });

describe('manifest YAML', () => {
  it('writes every rendered object as the yaml library does, and takes the fast path for them', () => {
    const base = workspaceConfigFor({ id: 'acme', domain: 'previews.example.com' });
    const ws = {
      ...base,
      jobs: {
        ...base.jobs,
        enabled: true,
        image: `r.example/x1deploy:1@sha256:${'c'.repeat(64)}`,
        gitopsRepo: 'https://git.example/g.git',
        serve: { ...base.jobs.serve, enabled: true, host: 'x1deploy.acme.example' },
      },
    };
    const schema = deployRequestSchema(ws.limits);
    const objects: Record<string, unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const request = schema.parse({
        app: `app${i % 3}`,
        branch: i % 2 ? `feat/x-${i}` : `Fix-Ü_${i}`,
        commit_sha: 'a'.repeat(40),
        ports: [8080, 9000 + i],
        env: { A: 'plain', B: 'with space', C: '${SECRET}', D: '123', E: 'true', F: 'multi\nline', G: 'a: b', H: "it's", I: '#x', J: '', K: 'v2,cart' },
      });
      objects.push(...branchDeployObjects(ws, newBranchDeploy(ws, request, branchSlug(request.app, request.branch), { agent: 'a', now: '2026-11-01T00:00:00.000Z' })));
    }
    for (const files of [renderWorkspace(ws, ['app0', 'app1']), renderBootstrap(ws), renderJobsBootstrap(ws)]) for (const text of files.values()) objects.push(parse(text));
    for (const o of objects) expect(manifestYaml(o)).toBe(library(o));
    // The plain ones go the fast way: a preview without env values that need quoting is all plain.
    const plain = schema.parse({ app: 'api', branch: 'feat/y', commit_sha: 'b'.repeat(40), ports: [8080], env: { MODE: 'preview' } });
    const record = newBranchDeploy(ws, plain, branchSlug('api', 'feat/y'), { agent: 'a', now: '2026-11-01T00:00:00.000Z' });
    const rendered = branchDeployObjects(ws, record);
    expect(rendered.filter((o) => plainShape(o)).map((o) => o.kind)).toEqual(rendered.map((o) => o.kind));
  });

  it('writes random documents as the yaml library does', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const strings = ['a', '25%', '%x', '1%', '007', '-1', '+5', '1.0', '.inf', 'NaN', '.NaN', 'TRUE', 'Null', 'off', 'y', 'app.kubernetes.io/name', 'x:y', 'x:', ':x', '-a', 'a-', '1', '0x1F', '1e3', '.5', 'true', 'True', 'yes', 'null', '~', '', ' a', 'a b', 'a #b', 'a:b:c', 'é', '@x', 'x@y', '=', '+1', 'v1.2.3', 'sha256:abc', 'a\nb', "it's", '"q"', '[x]', '{x}', '*x', '&x', '!x', '%x', '`x`', 'a,b', '?x', '|', '>'];
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.45) return pick<unknown>([...strings, 0, 1, -5, 42, 2.5, true, false, null, undefined]);
      if (r < 0.75) {
        const map: Record<string, unknown> = {};
        const n = Math.floor(random() * 4);
        for (let i = 0; i < n; i++) map[pick(strings) || 'k'] = value(depth + 1);
        return map;
      }
      return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1) ?? null);
    };
    let fast = 0;
    for (let i = 0; i < 3000; i++) {
      const doc = { apiVersion: 'v1', kind: 'ConfigMap', data: value(0), list: [value(1), value(2)] };
      if (plainShape(doc)) fast++;
      expect(manifestYaml(doc), JSON.stringify(doc)).toBe(library(doc));
    }
    // Both paths were exercised.
    expect(fast).toBeGreaterThan(100);
    expect(fast).toBeLessThan(3000);
  });
});

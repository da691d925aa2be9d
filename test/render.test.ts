import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { DeployRecord } from '../src/records/index.js';
import { renderBranchDeploy, renderWorkspace } from '../src/render/index.js';
import { branchSlug } from '../src/spec/index.js';
import { firstVersion, recordBuild } from '../src/versions/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';
import { expectValidManifests, kubectlKustomize, loadManifestValidator, type ManifestValidator } from './support/manifest-validator.js';
import { tempDir } from './support/workspace-repo.js';

const ws = workspaceConfigFor({ id: 'acme', slug: 'acme', domain: 'previews.example.com', registry: 'registry.internal:5000' });
const sha = 'c'.repeat(40);

function record(branch: string, spec: Partial<DeployRecord['versions'][number]['spec']> = {}, app = 'api'): DeployRecord {
  const slug = branchSlug(app, branch);
  return firstVersion(
    {
      apiVersion: 'x1deploy.dev/v1',
      kind: 'BranchDeploy',
      app,
      branch,
      slug,
      url: `https://${slug}.${app}.acme.previews.example.com`,
      created_at: '2026-01-01T00:00:00.000Z',
    },
    {
      commit_sha: sha,
      spec: { dockerfile: 'Dockerfile', ports: [8080], ...spec },
      image_ref: `registry.internal:5000/ws/acme/app-${app}:${sha}`,
      requested_by: 'agent',
      now: '2026-01-01T00:00:00.000Z',
    },
  ).record;
}

function objects(files: Map<string, string>): Record<string, any>[] {
  return [...files].filter(([p]) => !p.endsWith('kustomization.yaml')).map(([, text]) => parse(text));
}

function byKind(files: Map<string, string>, kind: string): Record<string, any> {
  return objects(files).find((o) => o.kind === kind)!;
}

let validator: ManifestValidator;
beforeAll(async () => {
  validator = await loadManifestValidator();
});

describe('renderBranchDeploy', () => {
  const live = recordBuild(
    record('feat/x', { replicas: 2, env: { MODE: 'a\nb $(HOME) $$', KEY: '${STRIPE_KEY}' }, resources: { cpu: '250m', memory: '256Mi' } }),
    1,
    {
      digest: `sha256:${'e'.repeat(64)}`,
      built_at: '2026-01-01T00:01:00.000Z',
      now: '2026-01-01T00:01:00.000Z',
    },
  );
  const files = renderBranchDeploy(ws, live);

  it('renders a Deployment, Service, Ingress and NetworkPolicy that validate against the upstream schemas', () => {
    expect(
      objects(files)
        .map((o) => o.kind)
        .sort(),
    ).toEqual(['Deployment', 'Ingress', 'NetworkPolicy', 'Service']);
    expectValidManifests(validator, objects(files));
    const slug = live.slug;
    for (const o of objects(files)) {
      expect(o.metadata.name).toBe(`api-${slug}`);
      expect(o.metadata.namespace).toBe('ws-acme');
      expect(o.metadata.labels).toEqual({ 'x1.app': 'api', 'x1.branch': slug, 'x1.version': '1' });
    }
  });

  it('passes the Pod Security restricted profile and uses the requested resources', () => {
    const pod = byKind(files, 'Deployment').spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    const [c] = pod.containers;
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext.privileged).toBe(false);
    expect(pod.hostNetwork).toBe(false);
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '250m', memory: '256Mi' } });
    expect(c.startupProbe).toBeUndefined();
    expect(c.livenessProbe).toBeUndefined();
    expect(c.readinessProbe.tcpSocket.port).toBe(8080);
  });

  it('pins the built image by digest, selects without construct-path labels', () => {
    const d = byKind(files, 'Deployment');
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.containers[0].image).toBe(`registry.internal:5000/ws/acme/app-api:${sha}@sha256:${'e'.repeat(64)}`);
    expect(d.spec.selector.matchLabels).toEqual({ 'x1.app': 'api', 'x1.branch': live.slug });
    expect(JSON.stringify(d)).not.toContain('cdk8s.io');
  });

  it('maps ${NAME} to the workspace secret, DATABASE_URL to the branch database, and keeps plain values exact', () => {
    const env = byKind(files, 'Deployment').spec.template.spec.containers[0].env;
    expect(env).toEqual([
      { name: 'KEY', valueFrom: { secretKeyRef: { name: 'workspace-secrets', key: 'STRIPE_KEY' } } },
      { name: 'MODE', value: expect.any(String) },
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `api-${live.slug}-db`, key: 'DATABASE_URL', optional: true } } },
    ]);
    // Kubernetes expands $(VAR) and folds $$ to $: the container must still see the value as written.
    const mode = env.find((e: { name: string }) => e.name === 'MODE').value;
    expect(kubeletExpand(mode, { HOME: '/root' })).toBe('a\nb $(HOME) $$');
    const all = [...files.values()].join('\n');
    expect(all).not.toMatch(/kind: Secret\b/);
  });

  it('routes the preview host over TLS and admits traffic only from the ingress controller and the namespace', () => {
    const ingress = byKind(files, 'Ingress');
    const host = `${live.slug}.api.acme.previews.example.com`;
    expect(ingress.spec.rules[0].host).toBe(host);
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: `api-${live.slug}`, port: { number: 8080 } });
    expect(ingress.spec.tls).toEqual([{ hosts: [host], secretName: 'api-previews-tls' }]);
    const np = byKind(files, 'NetworkPolicy');
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
      { podSelector: {} },
    ]);
  });

  it('renders a never-built branch with zero replicas', () => {
    const d = byKind(renderBranchDeploy(ws, record('feat/y')), 'Deployment');
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.template.spec.containers[0].image).toBe(`registry.internal:5000/ws/acme/app-api:${sha}`);
    expect(d.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '50m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    });
  });

  it('is deterministic: the same record renders the same bytes', () => {
    expect([...renderBranchDeploy(ws, live)]).toEqual([...files]);
  });

  it('uses the cert-manager ingress annotation and a per-host secret in per-host TLS mode', () => {
    const perHost = { ...ws, tls: { ...ws.tls, mode: 'per-host' as const } };
    const ingress = byKind(renderBranchDeploy(perHost, live), 'Ingress');
    expect(ingress.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt-dns01' });
    expect(ingress.spec.tls[0].secretName).toBe(`api-${live.slug}-tls`);
  });

  it('keeps the longest names valid', () => {
    const app = 'a'.repeat(30);
    const long = record('feature/' + 'X'.repeat(200), {}, app);
    expectValidManifests(validator, objects(renderBranchDeploy(ws, long)));
  });

  it('lists every object in kustomization.yaml, and kubectl kustomize builds the folder', () => {
    const kustomization = parse(files.get(`rendered/api/${live.slug}/kustomization.yaml`)!);
    expect(kustomization.resources).toEqual(['deployment.yaml', 'ingress.yaml', 'networkpolicy.yaml', 'service.yaml']);
    const root = tempDir();
    for (const [path, text] of files) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const result = kubectlKustomize(join(root, `rendered/api/${live.slug}`));
    if (!result.ran) {
      if (process.env.CI === 'true') throw new Error('kubectl is required in CI');
      console.warn('kubectl not found: skipping the kubectl kustomize check');
      return;
    }
    expect(result.error).toBeUndefined();
    const docs = parseAllDocuments(result.output!).map((d) => d.toJS());
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'Ingress', 'NetworkPolicy', 'Service']);
  });
});

describe('renderWorkspace', () => {
  it('renders one wildcard certificate per app, valid against the cert-manager schema', () => {
    const files = renderWorkspace(ws, ['web', 'api']);
    const certs = objects(files).filter((o) => o.kind === 'Certificate');
    expect(certs.map((c) => c.spec.dnsNames[0])).toEqual(['*.api.acme.previews.example.com', '*.web.acme.previews.example.com']);
    expect(certs[0]!.spec.secretName).toBe('api-previews-tls');
    expectValidManifests(validator, certs);
  });

  it('renders no certificates in per-host mode', () => {
    const files = renderWorkspace({ ...ws, tls: { ...ws.tls, mode: 'per-host' } }, ['api']);
    expect(objects(files).filter((o) => o.kind === 'Certificate')).toEqual([]);
  });
});

// Kubernetes' env expansion (third_party/forked/golang/expansion), for checking escapes.
function kubeletExpand(input: string, vars: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) {
      out += input[i];
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, end);
      out += name in vars ? vars[name] : `$(${name})`;
      i = end;
    } else {
      out += '$' + next;
      i++;
    }
  }
  return out;
}

// A local GitHub for tests: an HTTP server on 127.0.0.1 speaking the REST routes x1deploy uses, with
// in-memory repos, branches, pull requests and issue comments, ETags and 304s, Link pagination, and
// failure modes (error status, rate limits, truncated pagination, empty lists, cut bodies).
//
// It keeps itself honest against GitHub's published OpenAPI description (@octokit/openapi): every
// request is checked (operation exists, path and query parameters, JSON body) and so is every answer
// it sends (the schema for that operation and status). A mismatch is recorded in `violations` and
// answered with HTTP 500 naming it, so both the client and the test see it. Tests assert
// `violations` is empty after each case.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

// ---------------------------------------------------------------------------------------------------
// GitHub's OpenAPI description

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
  readonly schema?: JsonObject;
}

export interface OperationMatch {
  readonly method: string;
  /** The spec's path template, e.g. `/repos/{owner}/{repo}/branches`. */
  readonly template: string;
  readonly operationId: string;
  readonly pathParams: Readonly<Record<string, string>>;
  /** `GET /repos/{owner}/{repo}/branches` */
  readonly route: string;
}

interface Route {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly literals: number;
}

const SCHEMA_BASE = 'https://fake-github.test/openapi/';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * GitHub's REST description, read once per process (the JSON is 13 MB: ≈ 170 ms to parse). Schemas
 * are compiled with ajv on first use, each component once, so a test pays only for the operations it
 * touches.
 */
export class GitHubOpenApi {
  private static instance: GitHubOpenApi | undefined;

  /** Milliseconds spent reading and parsing the description. */
  readonly loadMs: number;
  /** Milliseconds spent compiling schemas so far. */
  compileMs = 0;
  readonly version: string;
  private readonly spec: JsonObject;
  private readonly routes: Route[] = [];
  private readonly ajv: Ajv;
  private readonly added = new Set<string>();
  private readonly compiled = new Map<string, ValidateFunction>();

  static shared(): GitHubOpenApi {
    GitHubOpenApi.instance ??= new GitHubOpenApi();
    return GitHubOpenApi.instance;
  }

  private constructor() {
    const started = performance.now();
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
    this.spec = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
    this.loadMs = performance.now() - started;
    this.version = String((this.spec.info as JsonObject).version);
    for (const [template, item] of Object.entries(this.spec.paths as JsonObject)) {
      const names: string[] = [];
      const source = template.replace(/\{([^}]+)\}|[^{]+/g, (part, name?: string) => {
        if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(name);
        return '([^/]+)';
      });
      const literals = template.split('/').filter((segment) => segment !== '' && !segment.includes('{')).length;
      for (const method of Object.keys(item as JsonObject)) {
        if (HTTP_METHODS.includes(method)) {
          this.routes.push({ method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), names, literals });
        }
      }
    }
    // The most literal template wins: /repos/{o}/{r}/issues/comments/{id} over /repos/{o}/{r}/issues/{n}/...
    this.routes.sort((a, b) => b.literals - a.literals || a.names.length - b.names.length);
    this.ajv = new Ajv({
      strict: false,
      allErrors: true,
      validateSchema: false,
      formats: {
        'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/,
        date: /^\d{4}-\d{2}-\d{2}$/,
        uri: (value: string) => URL.canParse(value),
        email: /^[^\s@]+@[^\s@]+$/,
      },
      // Formats GitHub uses that say nothing checkable (int64, uri-template, repo.nwo, …) pass.
      logger: { log: () => {}, warn: () => {}, error: (...args: unknown[]) => console.error(...args) },
    });
  }

  /** The operation for a request line, or undefined when GitHub has no such route. */
  match(method: string, pathname: string): OperationMatch | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(pathname);
      if (found === null) continue;
      const pathParams: Record<string, string> = {};
      route.names.forEach((name, index) => (pathParams[name] = decodeURIComponent(found[index + 1]!)));
      const operationId = String(this.operation(route.method, route.template).operationId);
      return { method, template: route.template, operationId, pathParams, route: `${method} ${route.template}` };
    }
    return undefined;
  }

  /** Problems with a request to `match`'s operation; [] when GitHub would accept its shape. */
  checkRequest(
    match: OperationMatch,
    request: { query: URLSearchParams; contentType: string | undefined; body: string; userAgent: string | undefined },
  ): string[] {
    const problems: string[] = [];
    const operation = this.operation(match.method, match.template);
    if (request.userAgent === undefined || request.userAgent === '') problems.push('no User-Agent header (GitHub refuses such requests)');
    const parameters = this.parameters(match.method, match.template);
    for (const parameter of parameters) {
      const key = `${match.route} ${parameter.in} ${parameter.name}`;
      const raw =
        parameter.in === 'path'
          ? match.pathParams[parameter.name]
          : parameter.in === 'query'
            ? request.query.get(parameter.name)
            : undefined;
      if (parameter.in !== 'path' && parameter.in !== 'query') continue;
      if (raw === undefined || raw === null) {
        if (parameter.required === true) problems.push(`missing required ${parameter.in} parameter "${parameter.name}"`);
        continue;
      }
      if (parameter.schema === undefined) continue;
      const validate = this.compile(key, parameter.schema);
      const value = coerce(raw, parameter.schema);
      if (!validate(value))
        problems.push(`${parameter.in} parameter "${parameter.name}"=${JSON.stringify(raw)} ${describe(validate.errors)}`);
    }
    const knownQuery = new Set(parameters.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of new Set(request.query.keys())) {
      if (!knownQuery.has(name)) problems.push(`unknown query parameter "${name}" (GitHub ignores it silently)`);
    }
    const requestBody = this.resolve(operation.requestBody) as JsonObject | undefined;
    if (request.body === '') {
      if (requestBody?.required === true) problems.push('the required JSON body is missing');
      return problems;
    }
    if (requestBody === undefined) return [...problems, 'a body was sent, but this operation takes none'];
    if (!/^application\/json\b/i.test(request.contentType ?? ''))
      problems.push(`body sent as ${request.contentType ?? 'no Content-Type'}, not application/json`);
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return [...problems, 'the body is not JSON'];
    }
    const schema = ((requestBody.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined)?.schema as
      JsonObject | undefined;
    if (schema === undefined) return problems;
    const validate = this.compile(`${match.route} request body`, schema);
    if (!validate(body)) problems.push(`body ${describe(validate.errors)}`);
    // GitHub drops unknown fields without a word, so a misspelt field would do nothing: flag it here.
    const properties = this.resolveSchema(schema).properties as JsonObject | undefined;
    if (properties !== undefined && schema.additionalProperties === undefined && isObject(body)) {
      for (const field of Object.keys(body))
        if (!(field in properties)) problems.push(`body field "${field}" is not in the operation's schema`);
    }
    return problems;
  }

  /** Problems with an answer; [] when it matches what GitHub documents for that status. */
  checkResponse(match: OperationMatch, status: number, body: unknown): string[] {
    const responses = this.operation(match.method, match.template).responses as JsonObject;
    // GitHub answers any conditional GET with 304, documented or not.
    if (status === 304 && match.method === 'GET') return body === undefined ? [] : ['a 304 answer has a body'];
    const documented = responses[String(status)] ?? responses.default;
    if (documented === undefined) return [`GitHub documents no HTTP ${status} answer (only ${Object.keys(responses).join(', ')})`];
    const response = this.resolve(documented) as JsonObject;
    const schema = ((response.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined)?.schema as
      JsonObject | undefined;
    if (schema === undefined) return body === undefined ? [] : [`HTTP ${status} is documented without a body, but one was sent`];
    if (body === undefined) return [`HTTP ${status} is documented with a JSON body, but none was sent`];
    const validate = this.compile(`${match.route} response ${status}`, schema);
    return validate(body) ? [] : [`HTTP ${status} body ${describe(validate.errors)}`];
  }

  private operation(method: string, template: string): JsonObject {
    return ((this.spec.paths as JsonObject)[template] as JsonObject)[method.toLowerCase()] as JsonObject;
  }

  private parameters(method: string, template: string): Parameter[] {
    const item = (this.spec.paths as JsonObject)[template] as JsonObject;
    const byKey = new Map<string, Parameter>();
    for (const list of [item.parameters, this.operation(method, template).parameters]) {
      for (const entry of (list as Json[] | undefined) ?? []) {
        const parameter = this.resolve(entry) as unknown as Parameter;
        byKey.set(`${parameter.in} ${parameter.name}`, parameter);
      }
    }
    return [...byKey.values()];
  }

  /** Follows a `#/components/...` reference of the description (parameters, responses, bodies). */
  private resolve(node: Json | undefined): Json | undefined {
    let current = node;
    while (isObject(current) && typeof current.$ref === 'string') {
      current = current.$ref
        .slice(2)
        .split('/')
        .reduce<Json | undefined>((at, part) => (isObject(at) ? at[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), this.spec);
    }
    return current;
  }

  private resolveSchema(schema: JsonObject): JsonObject {
    const resolved = this.resolve(schema);
    return isObject(resolved) ? resolved : {};
  }

  private compile(key: string, schema: JsonObject): ValidateFunction {
    let validate = this.compiled.get(key);
    if (validate === undefined) {
      const started = performance.now();
      validate = this.ajv.compile(this.prepare(schema) as object);
      this.compileMs += performance.now() - started;
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /**
   * A copy of an OpenAPI 3.0 schema that ajv reads as GitHub means it: component references point at
   * schemas registered one by one (so only the ones used are ever compiled), and `nullable` also
   * admits null where ajv would not (without `type`, or next to an `enum` lacking null).
   */
  private prepare(node: Json): Json {
    if (Array.isArray(node)) return node.map((item) => this.prepare(item));
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'example' || key === 'examples') continue;
      out[key] = key === 'properties' && isObject(value) ? mapValues(value, (v) => this.prepare(v)) : this.prepare(value);
    }
    if (typeof out.$ref === 'string') {
      const found = /^#\/components\/schemas\/([^/]+)(.*)$/.exec(out.$ref);
      if (found === null) throw new Error(`fake GitHub: unsupported schema reference ${out.$ref}`);
      this.register(found[1]!);
      out.$ref = `${SCHEMA_BASE}${encodeURIComponent(found[1]!)}${found[2] === '' ? '' : `#${found[2]}`}`;
    }
    if (out.nullable === true) {
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      if (out.type === undefined) {
        delete out.nullable;
        return { anyOf: [out, { type: 'null' }] };
      }
    }
    return out;
  }

  private register(name: string): void {
    if (this.added.has(name)) return;
    this.added.add(name);
    const schema = ((this.spec.components as JsonObject).schemas as JsonObject)[name];
    if (schema === undefined) throw new Error(`fake GitHub: the description has no schema ${name}`);
    this.ajv.addSchema(this.prepare(schema) as object, `${SCHEMA_BASE}${encodeURIComponent(name)}`);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mapValues(object: JsonObject, map: (value: Json) => Json): JsonObject {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, map(value)]));
}

/** A query or path string as the type its schema names, as GitHub reads it. */
function coerce(raw: string, schema: JsonObject): unknown {
  if ((schema.type === 'integer' || schema.type === 'number') && /^-?\d+(?:\.\d+)?$/.test(raw)) return Number(raw);
  if (schema.type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  if (schema.type === 'array') return raw.split(',');
  return raw;
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 6)
    .map((error) => `${error.instancePath === '' ? '(root)' : error.instancePath} ${error.message ?? error.keyword}`)
    .join('; ');
}

// ---------------------------------------------------------------------------------------------------
// State

export type FakeFailure =
  /** Every route of the repo answers this status (5xx bodies are GitHub's "Server Error"). */
  | { readonly kind: 'status'; readonly status: number; times?: number }
  /** 403 with x-ratelimit-remaining: 0 and a reset one second ahead. */
  | { readonly kind: 'rate-limit'; times?: number }
  /** 403 "You have exceeded a secondary rate limit" with Retry-After: 1. */
  | { readonly kind: 'secondary-rate-limit'; times?: number }
  /** The branch list answers []. */
  | { readonly kind: 'empty' }
  /**
   * The branch list's page before the last is sent without a Link header, as if it were the last.
   * `announceLast: false` also drops rel="last" from the earlier pages, so only a client that looks
   * past a full last page can notice.
   */
  | { readonly kind: 'truncated'; readonly announceLast?: boolean }
  /** GET answers promise a full body but the connection closes halfway through it. */
  | { readonly kind: 'cut-body' };

export interface FakePull {
  readonly id: number;
  readonly number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  /** Branch in this repo. */
  readonly head: string;
  base: string;
  readonly author: string;
  readonly createdAt: string;
  updatedAt: string;
}

export interface FakeComment {
  readonly id: number;
  readonly issueNumber: number;
  body: string;
  readonly author: string;
  readonly createdAt: string;
  updatedAt: string;
}

/** Who the fake says the token belongs to. */
export const FAKE_TOKEN_LOGIN = 'x1deploy-bot';

let nextId = 4000;

export interface FakeDeploymentStatus {
  readonly id: number;
  readonly state: string;
  readonly description: string;
  readonly environmentUrl?: string;
  readonly createdAt: string;
}

export interface FakeDeployment {
  readonly id: number;
  readonly sha: string;
  readonly environment: string;
  readonly description: string | null;
  readonly transient: boolean;
  readonly production: boolean;
  readonly createdAt: string;
  readonly statuses: FakeDeploymentStatus[];
}

export class FakeRepo {
  readonly branches = new Map<string, string>();
  readonly pulls: FakePull[] = [];
  readonly comments: FakeComment[] = [];
  readonly deployments: FakeDeployment[] = [];
  failure: FakeFailure | undefined;
  readonly id = nextId++;

  constructor(
    readonly owner: string,
    readonly name: string,
    readonly defaultBranch: string,
  ) {
    this.addBranch(defaultBranch);
  }

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  /** Adds (or moves) a branch; the commit sha defaults to one derived from the name. */
  addBranch(name: string, sha = createHash('sha1').update(`${this.fullName}:${name}`).digest('hex')): this {
    this.branches.set(name, sha);
    return this;
  }

  /** A pull request someone opened, e.g. the app's own PR that review mode comments on. */
  openPull(args: { head: string; base?: string; title: string; body?: string; author?: string }): FakePull {
    if (!this.branches.has(args.head)) this.addBranch(args.head);
    const now = timestamp();
    const pull: FakePull = {
      id: nextId++,
      number: this.pulls.length + 1,
      title: args.title,
      body: args.body ?? null,
      state: 'open',
      head: args.head,
      base: args.base ?? this.defaultBranch,
      author: args.author ?? 'octocat',
      createdAt: now,
      updatedAt: now,
    };
    this.pulls.push(pull);
    return pull;
  }

  commentsOn(issueNumber: number): FakeComment[] {
    return this.comments.filter((comment) => comment.issueNumber === issueNumber);
  }
}

export class FakeGitHubState {
  readonly repos = new Map<string, FakeRepo>();

  addRepo(fullName: string, options: { defaultBranch?: string; branches?: Iterable<string> } = {}): FakeRepo {
    const [owner, name] = fullName.split('/') as [string, string];
    const repo = new FakeRepo(owner, name, options.defaultBranch ?? 'main');
    for (const branch of options.branches ?? []) repo.addBranch(branch);
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  repo(fullName: string): FakeRepo {
    const repo = this.repos.get(fullName.toLowerCase());
    if (repo === undefined) throw new Error(`fake GitHub has no repo ${fullName}; addRepo it first`);
    return repo;
  }
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------------
// GitHub-shaped objects

function simpleUser(api: string, login: string): JsonObject {
  const id = login === FAKE_TOKEN_LOGIN ? 41898282 : 583231;
  const url = `${api}/users/${login}`;
  return {
    login,
    id,
    node_id: `MDQ6VXNlcj${id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url,
    html_url: `https://github.com/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: login === FAKE_TOKEN_LOGIN ? 'Bot' : 'User',
    site_admin: false,
  };
}

function repository(api: string, repo: FakeRepo): JsonObject {
  const url = `${api}/repos/${repo.fullName}`;
  const html = `https://github.com/${repo.fullName}`;
  const open = repo.pulls.filter((pull) => pull.state === 'open').length;
  const templated: Record<string, string> = {
    archive_url: '/{archive_format}{/ref}',
    assignees_url: '/assignees{/user}',
    blobs_url: '/git/blobs{/sha}',
    branches_url: '/branches{/branch}',
    collaborators_url: '/collaborators{/collaborator}',
    comments_url: '/comments{/number}',
    commits_url: '/commits{/sha}',
    compare_url: '/compare/{base}...{head}',
    contents_url: '/contents/{+path}',
    contributors_url: '/contributors',
    deployments_url: '/deployments',
    downloads_url: '/downloads',
    events_url: '/events',
    forks_url: '/forks',
    git_commits_url: '/git/commits{/sha}',
    git_refs_url: '/git/refs{/sha}',
    git_tags_url: '/git/tags{/sha}',
    hooks_url: '/hooks',
    issue_comment_url: '/issues/comments{/number}',
    issue_events_url: '/issues/events{/number}',
    issues_url: '/issues{/number}',
    keys_url: '/keys{/key_id}',
    labels_url: '/labels{/name}',
    languages_url: '/languages',
    merges_url: '/merges',
    milestones_url: '/milestones{/number}',
    notifications_url: '/notifications{?since,all,participating}',
    pulls_url: '/pulls{/number}',
    releases_url: '/releases{/id}',
    stargazers_url: '/stargazers',
    statuses_url: '/statuses/{sha}',
    subscribers_url: '/subscribers',
    subscription_url: '/subscription',
    tags_url: '/tags',
    teams_url: '/teams',
    trees_url: '/git/trees{/sha}',
  };
  return {
    id: repo.id,
    node_id: `R_kgDO${repo.id}`,
    name: repo.name,
    full_name: repo.fullName,
    owner: simpleUser(api, repo.owner),
    private: false,
    html_url: html,
    description: null,
    fork: false,
    url,
    ...Object.fromEntries(Object.entries(templated).map(([key, suffix]) => [key, `${url}${suffix}`])),
    git_url: `git://github.com/${repo.fullName}.git`,
    ssh_url: `git@github.com:${repo.fullName}.git`,
    clone_url: `${html}.git`,
    svn_url: html,
    mirror_url: null,
    homepage: null,
    language: null,
    size: 1,
    default_branch: repo.defaultBranch,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    open_issues: open,
    open_issues_count: open,
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    archived: false,
    disabled: false,
    license: null,
    pushed_at: '2024-01-02T03:04:05Z',
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-02T03:04:05Z',
  };
}

function shortBranch(api: string, repo: FakeRepo, name: string): JsonObject {
  const sha = repo.branches.get(name)!;
  return { name, commit: { sha, url: `${api}/repos/${repo.fullName}/commits/${sha}` }, protected: false };
}

function pullRequest(api: string, repo: FakeRepo, pull: FakePull, full: boolean): JsonObject {
  const url = `${api}/repos/${repo.fullName}/pulls/${pull.number}`;
  const html = `https://github.com/${repo.fullName}/pull/${pull.number}`;
  const issue = `${api}/repos/${repo.fullName}/issues/${pull.number}`;
  const headSha = repo.branches.get(pull.head) ?? '0'.repeat(40);
  const end = (ref: string) => ({
    label: `${repo.owner}:${ref}`,
    ref,
    sha: repo.branches.get(ref) ?? '0'.repeat(40),
    user: simpleUser(api, repo.owner),
    repo: repository(api, repo),
  });
  const links = {
    self: { href: url },
    html: { href: html },
    issue: { href: issue },
    comments: { href: `${issue}/comments` },
    review_comments: { href: `${url}/comments` },
    review_comment: { href: `${api}/repos/${repo.fullName}/pulls/comments{/number}` },
    commits: { href: `${url}/commits` },
    statuses: { href: `${api}/repos/${repo.fullName}/statuses/${headSha}` },
  };
  const simple: JsonObject = {
    url,
    id: pull.id,
    node_id: `PR_kwDO${pull.id}`,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issue,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${api}/repos/${repo.fullName}/pulls/comments{/number}`,
    comments_url: `${issue}/comments`,
    statuses_url: `${api}/repos/${repo.fullName}/statuses/${headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: simpleUser(api, pull.author),
    body: pull.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: null,
    merged_at: null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: end(pull.head),
    base: end(pull.base),
    _links: links,
    author_association: pull.author === repo.owner ? 'OWNER' : 'CONTRIBUTOR',
    auto_merge: null,
    draft: false,
  };
  if (!full) return simple;
  return {
    ...simple,
    merged: false,
    mergeable: null,
    rebaseable: null,
    mergeable_state: 'unknown',
    merged_by: null,
    comments: repo.commentsOn(pull.number).length,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: 1,
    additions: 1,
    deletions: 0,
    changed_files: 1,
  };
}

function issueComment(api: string, repo: FakeRepo, comment: FakeComment): JsonObject {
  return {
    id: comment.id,
    node_id: `IC_kwDO${comment.id}`,
    url: `${api}/repos/${repo.fullName}/issues/comments/${comment.id}`,
    html_url: `https://github.com/${repo.fullName}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
    body: comment.body,
    user: simpleUser(api, comment.author),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    issue_url: `${api}/repos/${repo.fullName}/issues/${comment.issueNumber}`,
    author_association: 'NONE',
  };
}

function deployment(api: string, repo: FakeRepo, d: FakeDeployment): JsonObject {
  const url = `${api}/repos/${repo.fullName}/deployments/${d.id}`;
  return {
    url,
    id: d.id,
    node_id: `DE_kwDO${d.id}`,
    sha: d.sha,
    ref: d.sha,
    task: 'deploy',
    payload: {},
    original_environment: d.environment,
    environment: d.environment,
    description: d.description,
    creator: simpleUser(api, FAKE_TOKEN_LOGIN),
    created_at: d.createdAt,
    updated_at: d.statuses[d.statuses.length - 1]?.createdAt ?? d.createdAt,
    statuses_url: `${url}/statuses`,
    repository_url: `${api}/repos/${repo.fullName}`,
    transient_environment: d.transient,
    production_environment: d.production,
  };
}

function deploymentStatus(api: string, repo: FakeRepo, d: FakeDeployment, status: FakeDeploymentStatus): JsonObject {
  const deploymentUrl = `${api}/repos/${repo.fullName}/deployments/${d.id}`;
  return {
    url: `${deploymentUrl}/statuses/${status.id}`,
    id: status.id,
    node_id: `DES_kwDO${status.id}`,
    state: status.state,
    creator: simpleUser(api, FAKE_TOKEN_LOGIN),
    description: status.description,
    environment: d.environment,
    target_url: `https://github.com/${repo.fullName}/deployments`,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    deployment_url: deploymentUrl,
    repository_url: `${api}/repos/${repo.fullName}`,
    ...(status.environmentUrl ? { environment_url: status.environmentUrl } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// Server

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** `GET /repos/{owner}/{repo}/branches`, or undefined for a route GitHub does not have. */
  readonly route: string | undefined;
  readonly status: number;
  readonly ifNoneMatch: string | undefined;
  /** A short hash of the token sent, 'none' without one; never the token. */
  readonly auth: string;
}

export class RequestLog {
  readonly entries: RecordedRequest[] = [];

  /** Requests to a route (`GET /repos/{owner}/{repo}/branches`), or all of them. */
  count(route?: string, filter: (request: RecordedRequest) => boolean = () => true): number {
    return this.entries.filter((request) => (route === undefined || request.route === route) && filter(request)).length;
  }

  clear(): void {
    this.entries.length = 0;
  }
}

export interface FakeGitHub {
  /** http://127.0.0.1:<port>, to pass as the client's baseUrl. */
  readonly baseUrl: string;
  readonly state: FakeGitHubState;
  readonly requests: RequestLog;
  /** Each request or answer that GitHub's OpenAPI description does not allow. */
  readonly violations: string[];
  readonly openApi: GitHubOpenApi;
  close(): Promise<void>;
}

export interface FakeGitHubOptions {
  /** When set, a request without one of these tokens is answered 401, as GitHub does. */
  readonly tokens?: readonly string[];
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as is, not checked against the description (rate limits and 5xx, which any route may give). */
  readonly unchecked?: boolean;
  readonly cut?: boolean;
}

const DOCS = 'https://docs.github.com/rest';

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const openApi = GitHubOpenApi.shared();
  const state = new FakeGitHubState();
  const requests = new RequestLog();
  const violations: string[] = [];
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`fake GitHub crashed on ${req.method} ${req.url}: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) send(res, { status: 500, body: { message: 'fake GitHub crashed' } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const api = `http://${req.headers.host ?? '127.0.0.1'}`;
    const match = openApi.match(method, url.pathname);
    const authorization = req.headers.authorization;
    const token = authorization?.replace(/^(?:token|bearer)\s+/i, '');
    const record = (status: number) =>
      requests.entries.push({
        method,
        path: url.pathname,
        query: url.search.replace(/^\?/, ''),
        route: match?.route,
        status,
        ifNoneMatch: req.headers['if-none-match'],
        auth: token === undefined ? 'none' : createHash('sha256').update(token).digest('hex').slice(0, 12),
      });
    const refuse = (problems: string[]) => {
      const message = `fake GitHub: ${method} ${url.pathname}${url.search} breaks GitHub's OpenAPI description: ${problems.join('; ')}`;
      violations.push(message);
      record(500);
      send(res, { status: 500, body: { message } });
    };

    if (match === undefined) return refuse(['no operation has this method and path']);
    const problems = openApi.checkRequest(match, {
      query: url.searchParams,
      contentType: req.headers['content-type'],
      body,
      userAgent: req.headers['user-agent'],
    });
    if (problems.length > 0) return refuse(problems);

    let reply: Reply;
    if (options.tokens !== undefined && (token === undefined || !options.tokens.includes(token))) {
      reply = { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' }, unchecked: true };
    } else {
      const handler = HANDLERS[match.route];
      if (handler === undefined) return refuse([`the fake does not implement ${match.route} (${match.operationId}); add a handler`]);
      const repo = state.repos.get(`${match.pathParams.owner}/${match.pathParams.repo}`.toLowerCase());
      reply =
        repo === undefined
          ? notFound()
          : (failureReply(repo, method) ?? handler({ api, url, repo, match, body: body === '' ? {} : JSON.parse(body) }));
    }

    if (method === 'GET' && reply.status === 200 && !reply.unchecked) {
      // Per token, as GitHub's: the same page seen with another token has another ETag.
      const etag = `W/"${createHash('sha256')
        .update(`${token ?? ''}\n${JSON.stringify(reply.body)}`)
        .digest('hex')
        .slice(0, 40)}"`;
      const sent = req.headers['if-none-match'];
      if (sent !== undefined && sent.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
        reply = { status: 304, headers: { etag, ...(reply.headers?.link === undefined ? {} : { link: reply.headers.link }) } };
      } else reply = { ...reply, headers: { ...reply.headers, etag } };
    }
    if (!reply.unchecked) {
      const answerProblems = openApi.checkResponse(match, reply.status, reply.body);
      if (answerProblems.length > 0) return refuse(answerProblems.map((problem) => `answer: ${problem}`));
    }
    record(reply.status);
    send(res, reply);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    state,
    requests,
    violations,
    openApi,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(res: ServerResponse, reply: Reply): void {
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  const headers: Record<string, string> = {
    ...(reply.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'x-github-api-version-selected': '2022-11-28',
    ...reply.headers,
  };
  if (reply.cut === true) {
    res.writeHead(reply.status, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
    res.write(text.slice(0, Math.floor(text.length / 2)));
    res.socket?.destroy();
    return;
  }
  res.writeHead(reply.status, headers);
  res.end(text);
}

/** GitHub answers 404 for a missing or hidden repo or object on any route, documented or not. */
function notFound(): Reply {
  return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' }, unchecked: true };
}

function invalid(message: string, field: string, resource = 'PullRequest'): Reply {
  return {
    status: 422,
    body: { message: 'Validation Failed', errors: [{ resource, field, code: 'custom', message }], documentation_url: DOCS, status: '422' },
  };
}

/** The repo's injected failure for this request, if any; counts down `times`. */
function failureReply(repo: FakeRepo, method: string): Reply | undefined {
  const failure = repo.failure;
  if (failure === undefined) return undefined;
  const spend = () => {
    if ('times' in failure && failure.times !== undefined && --failure.times <= 0) repo.failure = undefined;
  };
  switch (failure.kind) {
    case 'status':
      spend();
      return { status: failure.status, body: { message: failure.status >= 500 ? 'Server Error' : 'Error' }, unchecked: true };
    case 'rate-limit':
      spend();
      return {
        status: 403,
        unchecked: true,
        body: { message: 'API rate limit exceeded for user ID 41898282.', documentation_url: `${DOCS}/rate-limit`, status: '403' },
        headers: {
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': '5000',
          'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1),
        },
      };
    case 'secondary-rate-limit':
      spend();
      return {
        status: 403,
        unchecked: true,
        body: {
          message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: `${DOCS}/rate-limit`,
          status: '403',
        },
        headers: { 'retry-after': '1' },
      };
    case 'cut-body':
      return method === 'GET'
        ? { status: 200, body: Array.from({ length: 50 }, (_, i) => ({ name: `cut-${i}` })), cut: true, unchecked: true }
        : undefined;
    default:
      return undefined; // list-shaping failures are applied by the branch handler
  }
}

interface HandlerContext {
  readonly api: string;
  readonly url: URL;
  readonly repo: FakeRepo;
  readonly match: OperationMatch;
  readonly body: Record<string, unknown>;
}

/** One page of `items` as GitHub slices it (per_page ≤ 100, default 30), with its Link header. */
function paginate<T>(
  url: URL,
  items: readonly T[],
  shape?: { dropLinkOnPage?: number; announceLast?: boolean },
): { page: T[]; link?: string } {
  const perPage = Math.min(Math.max(Number(url.searchParams.get('per_page') ?? '30') || 30, 1), 100);
  const page = Math.max(Number(url.searchParams.get('page') ?? '1') || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (shape?.dropLinkOnPage === page) return { page: slice };
  const at = (n: number) => {
    const target = new URL(url);
    target.searchParams.set('per_page', String(perPage));
    target.searchParams.set('page', String(n));
    return target.toString();
  };
  const rels: string[] = [];
  if (page > 1) rels.push(`<${at(page - 1)}>; rel="prev"`);
  if (page < last) {
    rels.push(`<${at(page + 1)}>; rel="next"`);
    if (shape?.announceLast !== false) rels.push(`<${at(last)}>; rel="last"`);
  }
  if (page > 1) rels.push(`<${at(1)}>; rel="first"`);
  return rels.length === 0 ? { page: slice } : { page: slice, link: rels.join(', ') };
}

function listReply(items: unknown[], link: string | undefined): Reply {
  return { status: 200, body: items, ...(link === undefined ? {} : { headers: { link } }) };
}

/** Strips an "owner:" prefix naming this repo's owner, as GitHub accepts for same-repo heads. */
function ownBranch(repo: FakeRepo, ref: string): string | undefined {
  if (!ref.includes(':')) return ref;
  const [owner, branch] = ref.split(':', 2) as [string, string];
  return owner.toLowerCase() === repo.owner.toLowerCase() ? branch : undefined;
}

const HANDLERS: Record<string, (context: HandlerContext) => Reply> = {
  'GET /repos/{owner}/{repo}/branches': ({ api, url, repo }) => {
    const failure = repo.failure;
    const names = failure?.kind === 'empty' ? [] : [...repo.branches.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? '30') || 30, 100);
    const pages = Math.max(Math.ceil(names.length / perPage), 1);
    const shape =
      failure?.kind === 'truncated' ? { dropLinkOnPage: Math.max(pages - 1, 1), announceLast: failure.announceLast !== false } : undefined;
    const { page, link } = paginate(url, names, shape);
    return listReply(
      page.map((name) => shortBranch(api, repo, name)),
      link,
    );
  },

  'GET /repos/{owner}/{repo}/pulls': ({ api, url, repo }) => {
    const state = url.searchParams.get('state') ?? 'open';
    const head = url.searchParams.get('head');
    const base = url.searchParams.get('base');
    // GitHub ignores a head filter without "owner:", returning every pull request.
    const headBranch = head !== null && head.includes(':') ? ownBranch(repo, head) : undefined;
    const pulls = repo.pulls
      .filter((pull) => state === 'all' || pull.state === state)
      .filter((pull) => head === null || !head.includes(':') || pull.head === headBranch)
      .filter((pull) => base === null || pull.base === base)
      .sort((a, b) => b.number - a.number);
    const { page, link } = paginate(url, pulls);
    return listReply(
      page.map((pull) => pullRequest(api, repo, pull, false)),
      link,
    );
  },

  'POST /repos/{owner}/{repo}/pulls': ({ api, repo, body }) => {
    const head = ownBranch(repo, String(body.head));
    const base = String(body.base);
    if (head === undefined || !repo.branches.has(head))
      return invalid(`head ${String(body.head)} is not a branch of ${repo.fullName}`, 'head');
    if (!repo.branches.has(base)) return invalid(`base ${base} is not a branch of ${repo.fullName}`, 'base');
    if (typeof body.title !== 'string' || body.title === '') return invalid('title is required', 'title');
    if (repo.pulls.some((pull) => pull.state === 'open' && pull.head === head && pull.base === base)) {
      return invalid(`A pull request already exists for ${repo.owner}:${head}.`, 'head');
    }
    const pull = repo.openPull({
      head,
      base,
      title: body.title,
      body: typeof body.body === 'string' ? body.body : undefined,
      author: FAKE_TOKEN_LOGIN,
    });
    return {
      status: 201,
      body: pullRequest(api, repo, pull, true),
      headers: { location: `${api}/repos/${repo.fullName}/pulls/${pull.number}` },
    };
  },

  'PATCH /repos/{owner}/{repo}/pulls/{pull_number}': ({ api, repo, match, body }) => {
    const pull = repo.pulls.find((candidate) => candidate.number === Number(match.pathParams.pull_number));
    if (pull === undefined) return notFound();
    if (typeof body.base === 'string' && !repo.branches.has(body.base)) return invalid(`base ${body.base} is not a branch`, 'base');
    if (typeof body.title === 'string') pull.title = body.title;
    if (typeof body.body === 'string') pull.body = body.body;
    if (body.state === 'open' || body.state === 'closed') pull.state = body.state;
    if (typeof body.base === 'string') pull.base = body.base;
    pull.updatedAt = timestamp();
    return { status: 200, body: pullRequest(api, repo, pull, true) };
  },

  'GET /repos/{owner}/{repo}/issues/{issue_number}/comments': ({ api, url, repo, match }) => {
    const number = Number(match.pathParams.issue_number);
    if (!repo.pulls.some((pull) => pull.number === number)) return notFound();
    const { page, link } = paginate(url, repo.commentsOn(number));
    return listReply(
      page.map((comment) => issueComment(api, repo, comment)),
      link,
    );
  },

  'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': ({ api, repo, match, body }) => {
    const number = Number(match.pathParams.issue_number);
    if (!repo.pulls.some((pull) => pull.number === number)) return notFound();
    const now = timestamp();
    const comment: FakeComment = {
      id: nextId++,
      issueNumber: number,
      body: String(body.body),
      author: FAKE_TOKEN_LOGIN,
      createdAt: now,
      updatedAt: now,
    };
    repo.comments.push(comment);
    const created = issueComment(api, repo, comment);
    return { status: 201, body: created, headers: { location: String(created.url) } };
  },

  'GET /repos/{owner}/{repo}/deployments': ({ api, url, repo }) => {
    const sha = url.searchParams.get('sha');
    const environment = url.searchParams.get('environment');
    const found = repo.deployments
      .filter((d) => (sha === null || d.sha === sha) && (environment === null || d.environment === environment))
      .sort((a, b) => b.id - a.id);
    const { page, link } = paginate(url, found);
    return listReply(
      page.map((d) => deployment(api, repo, d)),
      link,
    );
  },

  'POST /repos/{owner}/{repo}/deployments': ({ api, repo, body }) => {
    if (typeof body.ref !== 'string' || !/^[0-9a-f]{40}$/.test(body.ref)) return invalid(`No ref found for: ${String(body.ref)}`, 'ref');
    const d: FakeDeployment = {
      id: nextId++,
      sha: body.ref,
      environment: typeof body.environment === 'string' ? body.environment : 'production',
      description: typeof body.description === 'string' ? body.description : null,
      transient: body.transient_environment === true,
      production: body.production_environment === true,
      createdAt: timestamp(),
      statuses: [],
    };
    repo.deployments.push(d);
    return { status: 201, body: deployment(api, repo, d) };
  },

  'POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses': ({ api, repo, match, body }) => {
    const d = repo.deployments.find((candidate) => candidate.id === Number(match.pathParams.deployment_id));
    if (d === undefined) return notFound();
    const status: FakeDeploymentStatus = {
      id: nextId++,
      state: String(body.state),
      description: typeof body.description === 'string' ? body.description : '',
      ...(typeof body.environment_url === 'string' ? { environmentUrl: body.environment_url } : {}),
      createdAt: timestamp(),
    };
    d.statuses.push(status);
    // auto_inactive: a success makes the environment's earlier successful deployments inactive.
    if (status.state === 'success' && body.auto_inactive !== false) {
      for (const other of repo.deployments) {
        if (other !== d && other.environment === d.environment && other.statuses.at(-1)?.state === 'success') {
          other.statuses.push({ id: nextId++, state: 'inactive', description: 'superseded', createdAt: timestamp() });
        }
      }
    }
    return { status: 201, body: deploymentStatus(api, repo, d, status) };
  },

  'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}': ({ api, repo, match, body }) => {
    const comment = repo.comments.find((candidate) => candidate.id === Number(match.pathParams.comment_id));
    if (comment === undefined) return notFound();
    comment.body = String(body.body);
    comment.updatedAt = timestamp();
    return { status: 200, body: issueComment(api, repo, comment) };
  },
};

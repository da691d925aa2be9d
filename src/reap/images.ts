// Removing a reaped preview's images from the registry, by digest (the only way the distribution API
// deletes; it untags every tag on that manifest). Tags are commit shas, so two branches at one commit
// share a tag and its digest: a digest any remaining branch deploy still references is kept, or
// deleting it would break the survivor. Runs after the reap commit; its failures are reported.
import type { DeployRecord } from '../records/index.js';
import { parseImageRef, type ImageRegistry } from '../registry/index.js';

export interface ImageOutcome {
  /** host[:port]/path of the image repository. */
  readonly repository: string;
  /** Undefined when nothing in the repository could be looked at. */
  readonly digest?: string;
  /** The reaped previews' tags on that digest. */
  readonly tags: readonly string[];
  readonly outcome: 'deleted' | 'absent' | 'kept' | 'failed';
  readonly detail?: string;
}

interface TaggedVersion {
  readonly tag: string;
  readonly digest?: string;
  /** app/slug, for messages. */
  readonly owner: string;
}

/** Delete what only the reaped previews used; `survivors` are every branch deploy left in the repo. */
export async function removeReapedImages(
  registry: ImageRegistry,
  reaped: readonly DeployRecord[],
  survivors: readonly DeployRecord[],
): Promise<ImageOutcome[]> {
  const outcomes: ImageOutcome[] = [];
  const reapedByRepo = byRepository(reaped, outcomes);
  const survivorsByRepo = byRepository(survivors, []);
  for (const [repository, versions] of reapedByRepo) {
    try {
      outcomes.push(...(await cleanRepository(registry, repository, versions, survivorsByRepo.get(repository) ?? [])));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      outcomes.push({ repository, tags: unique(versions.map((v) => v.tag)), outcome: 'failed', detail: `nothing deleted here: ${detail}` });
    }
  }
  return outcomes;
}

async function cleanRepository(
  registry: ImageRegistry,
  repository: string,
  reaped: readonly TaggedVersion[],
  survivors: readonly TaggedVersion[],
): Promise<ImageOutcome[]> {
  // What the reaped previews pointed at: recorded digests, and what their tags point at now
  // (a version whose build was never recorded may still have pushed its image).
  const candidates = new Map<string, Set<string>>();
  const add = (digest: string, tag: string) => candidates.set(digest, (candidates.get(digest) ?? new Set()).add(tag));
  const tagDigests = new Map<string, string | undefined>();
  for (const tag of unique(reaped.map((v) => v.tag))) {
    const digest = await registry.manifestDigest(`${repository}:${tag}`);
    tagDigests.set(tag, digest);
    if (digest !== undefined) add(digest, tag);
  }
  for (const v of reaped) if (v.digest !== undefined) add(v.digest, v.tag);

  // What the survivors still reference: recorded digests, shared tags, and tags not yet recorded.
  const kept = new Map<string, Set<string>>();
  const keep = (digest: string | undefined, owner: string) => {
    if (digest !== undefined) kept.set(digest, (kept.get(digest) ?? new Set()).add(owner));
  };
  for (const v of survivors) {
    keep(v.digest, v.owner);
    if (tagDigests.has(v.tag)) keep(tagDigests.get(v.tag), v.owner);
    else if (v.digest === undefined) {
      const digest = await registry.manifestDigest(`${repository}:${v.tag}`);
      tagDigests.set(v.tag, digest);
      keep(digest, v.owner);
    }
  }

  const outcomes: ImageOutcome[] = [];
  for (const [digest, tagSet] of candidates) {
    const tags = [...tagSet].sort();
    const users = kept.get(digest);
    if (users !== undefined) {
      outcomes.push({ repository, digest, tags, outcome: 'kept', detail: `still used by ${[...users].sort().join(', ')}` });
      continue;
    }
    try {
      outcomes.push({ repository, digest, tags, outcome: await registry.deleteManifest(repository, digest) });
    } catch (error) {
      outcomes.push({ repository, digest, tags, outcome: 'failed', detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return outcomes;
}

function byRepository(records: readonly DeployRecord[], outcomes: ImageOutcome[]): Map<string, TaggedVersion[]> {
  const groups = new Map<string, TaggedVersion[]>();
  for (const record of records) {
    for (const v of record.versions) {
      let ref;
      try {
        ref = parseImageRef(v.image_ref);
      } catch (error) {
        outcomes.push({ repository: v.image_ref, tags: [], outcome: 'failed', detail: (error as Error).message });
        continue;
      }
      const repository = `${ref.host}/${ref.repository}`;
      const list = groups.get(repository) ?? [];
      list.push({ tag: ref.tag, ...(v.digest === undefined ? {} : { digest: v.digest }), owner: `${record.app}/${record.slug}` });
      groups.set(repository, list);
    }
  }
  return groups;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

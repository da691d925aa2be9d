// Group commit across processes. The processes of one machine that write through one shared store
// (a remote's cache clone) hand their requests to whichever of them holds the store's lock: that
// leader plans its own request and every request waiting beside it against one tip, lands them
// with one commit and one push (group-commit.ts), and leaves each request its own answer. Ten
// deploys at once cost two pushes, instead of ten lock turns each slowed by the others' start-up.
//
// The folder (HandoffPort.dir), every file written aside and renamed in, so never read half-written:
//   waiting/<id>.json   a request no leader has taken yet
//   taken/<id>.json     a request a leader took; it goes back to waiting/ when that leader died
//   answers/<id>.json   a request's answer; its requester reads and removes it
//
// Nobody is chosen to lead: a waiter that sees no live leader takes the lock and leads itself, so a
// request is answered whichever process dies when. A leader that died mid-way may have landed some
// of its requests; they run again, and a deploy that landed answers that it is already deployed.
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X1Error, errorAnswer, errorFromAnswer, type ErrorAnswer } from '../errors/index.js';
import type { HandoffPort } from '../records/index.js';

export interface Handoff<J, R> {
  /** This process's request, as it is handed over (plain JSON). */
  readonly job: J;
  /** Reads a request found in the folder: whatever is there is untrusted input. */
  readonly parseJob: (raw: unknown) => J;
  /**
   * Makes what one leadership runs each request with (one group-commit store for all of them).
   * Called only in the process that leads, so a waiter never loads what planning needs.
   */
  readonly runner: () => Promise<(job: J) => Promise<R>>;
}

export interface HandoffOptions {
  /** How long a waiter waits for its answer before it gives up (default 15 minutes). */
  readonly maxWaitMs?: number;
}

/** A leader takes at most this many requests, then lets a waiter lead. */
const LEAD_MAX_REQUESTS = 512;
/** How often a leader with requests in flight looks for new ones where file events are unavailable. */
const ARRIVAL_POLL_MS = 50;
/** A handed-off request file is at most this big; a deploy request is at most 1 MiB. */
const MAX_FILE_BYTES = 4 << 20;
/** Answers nobody came for (their requester died) are removed after this long. */
const UNCLAIMED_ANSWER_MS = 10 * 60_000;

type Answer<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: ErrorAnswer };

class HandoffLostError extends X1Error {
  constructor(what: string) {
    super('unavailable', `${what}; it may or may not have landed: check the branch deploy's status, then run the command again`);
  }
}

/** Run this process's request: leading when the lock is free, else handed to the process that leads. */
export async function handOffOrLead<J, R>(port: HandoffPort, handoff: Handoff<J, R>, options: HandoffOptions = {}): Promise<R> {
  const folder = await openFolder(port.dir);
  const led = await port.tryLead(() => lead(folder, handoff, { job: handoff.job }));
  if (led) {
    const own = led.value!;
    if (own.status === 'rejected') throw own.reason;
    return own.value;
  }
  const id = requestId();
  await writeAside(folder.waiting, id, JSON.stringify(handoff.job));
  return waitForAnswer(port, folder, handoff, id, options.maxWaitMs ?? 15 * 60_000);
}

interface Folder {
  readonly waiting: string;
  readonly taken: string;
  readonly answers: string;
}

async function openFolder(dir: string): Promise<Folder> {
  const folder = { waiting: join(dir, 'waiting'), taken: join(dir, 'taken'), answers: join(dir, 'answers') };
  // The user's alone: a request is the agent's text before validation, which may hold what it must not.
  for (const path of Object.values(folder)) await mkdir(path, { recursive: true, mode: 0o700 });
  return folder;
}

/** Sortable by when it was made, so a leader takes the oldest requests first. */
function requestId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Holding the lock: answer this process's own request (if any) and every waiting one until none
 * waits. Returns the own request's outcome, errors as they were thrown.
 *
 * Requests start as they arrive, not in rounds: one that arrives while a group is being planned
 * joins it (the group-commit store plans whatever queued before it lands). Processes started
 * together reach the folder spread over the half second their start-ups take on a busy machine;
 * taken in rounds, the late ones waited for the first group's push and made a second one.
 */
async function lead<J, R>(folder: Folder, handoff: Handoff<J, R>, own: { job: J } | undefined): Promise<PromiseSettledResult<R> | undefined> {
  await reclaim(folder);
  let run: (job: J) => Promise<R>;
  try {
    run = await handoff.runner();
  } catch (err) {
    // What every request needs failed (the remote is away, say): each waiting one is answered with
    // it now, rather than left to land later after its requester was told it failed.
    const taken = await takeWaiting(folder, handoff.parseJob);
    await Promise.all(taken.map((t) => answer(folder, t.id, { status: 'rejected', reason: err })));
    throw err;
  }
  const arrivals = fileSignal(folder.waiting, (name) => name.endsWith('.json'), ARRIVAL_POLL_MS);
  let inFlight = 0;
  const started = <T>(work: Promise<T>): Promise<PromiseSettledResult<T>> => {
    inFlight++;
    return work.then(
      (value) => ({ status: 'fulfilled' as const, value }),
      (reason: unknown) => ({ status: 'rejected' as const, reason }),
    );
  };
  const ended = () => {
    inFlight--;
    arrivals.wake();
  };
  // The own request first, so it plans first; then the waiting ones, oldest first, as they come.
  const ownOutcome = own ? started(run(own.job)).finally(ended) : undefined;
  // An answer that could not be written fails the leader once every request has ended.
  let unanswered: { readonly error: unknown } | undefined;
  try {
    for (let taken = 0; ;) {
      arrivals.reset();
      const found = taken < LEAD_MAX_REQUESTS ? await takeWaiting(folder, handoff.parseJob) : [];
      taken += found.length;
      for (const t of found) {
        void started('job' in t ? run(t.job) : Promise.reject(t.error))
          .then((outcome) => answer(folder, t.id, outcome))
          .catch((error: unknown) => (unanswered ??= { error }))
          .finally(ended);
      }
      if (inFlight === 0) break;
      await arrivals.wait();
    }
  } finally {
    arrivals.close();
  }
  if (unanswered) throw unanswered.error;
  return ownOutcome;
}

/**
 * Requests a dead leader had taken go back to waiting. Answers nobody came for (their requester
 * died) and files a process died writing are removed once they are old.
 */
async function reclaim(folder: Folder): Promise<void> {
  for (const name of await readdir(folder.taken)) {
    if (name.endsWith('.json')) await rename(join(folder.taken, name), join(folder.waiting, name)).catch(ignoreMissing);
  }
  const now = Date.now();
  const old = async (path: string) => now - ((await stat(path).catch(() => undefined))?.mtimeMs ?? now) > UNCLAIMED_ANSWER_MS;
  for (const [dir, litter] of [
    [folder.answers, () => true],
    [folder.waiting, (name: string) => name.endsWith('.tmp')],
  ] as const) {
    for (const name of (await readdir(dir)).filter(litter)) {
      if (await old(join(dir, name))) await unlink(join(dir, name)).catch(ignoreMissing);
    }
  }
}

type Taken<J> = { readonly id: string; readonly job: J } | { readonly id: string; readonly error: X1Error };

async function takeWaiting<J>(folder: Folder, parseJob: (raw: unknown) => J): Promise<Taken<J>[]> {
  const taken: Taken<J>[] = [];
  for (const name of (await readdir(folder.waiting)).filter((n) => n.endsWith('.json')).sort()) {
    const id = name.slice(0, -'.json'.length);
    const path = join(folder.taken, name);
    // Renamed, not read in place: a request is taken by one leader only.
    if (!(await rename(join(folder.waiting, name), path).then(() => true, () => false))) continue;
    try {
      const info = await stat(path);
      if (info.size > MAX_FILE_BYTES) throw new Error(`it is ${info.size} bytes, over ${MAX_FILE_BYTES}`);
      taken.push({ id, job: parseJob(JSON.parse(await readFile(path, 'utf8'))) });
    } catch (err) {
      taken.push({ id, error: new X1Error('invalid', `the handed-off request ${id} could not be read (${(err as Error).message}); run the command again`) });
    }
  }
  return taken;
}

async function answer<R>(folder: Folder, id: string, outcome: PromiseSettledResult<R>): Promise<void> {
  const body: Answer<R> = outcome.status === 'fulfilled' ? { ok: true, value: outcome.value } : { ok: false, error: errorAnswer(outcome.reason) };
  await writeAside(folder.answers, id, JSON.stringify(body));
  await unlink(join(folder.taken, `${id}.json`)).catch(ignoreMissing);
}

async function waitForAnswer<J, R>(port: HandoffPort, folder: Folder, handoff: Handoff<J, R>, id: string, maxWaitMs: number): Promise<R> {
  const deadline = Date.now() + maxWaitMs;
  const answered = answerSignal(folder, id);
  try {
    for (;;) {
      answered.reset();
      const found = await readAnswer<R>(folder, id);
      if (found) return found;
      // No live leader (it finished before our request came, or it died): lead, which answers ours.
      let failed: { reason: unknown } | undefined;
      const led =
        !(await port.isLed()) &&
        (await port.tryLead(() =>
          lead(folder, handoff, undefined).catch((reason: unknown) => {
            failed = { reason };
          }),
        ));
      if (led) {
        const after = await readAnswer<R>(folder, id);
        if (after) return after;
        if (failed) throw failed.reason;
        if (!(await exists(join(folder.waiting, `${id}.json`))) && !(await exists(join(folder.taken, `${id}.json`)))) {
          throw new HandoffLostError(`the request handed to another x1deploy process was removed before it was answered`);
        }
      }
      if (Date.now() > deadline) {
        // Withdrawn if no leader has taken it yet; a leader that has may still land it.
        await unlink(join(folder.waiting, `${id}.json`)).catch(ignoreMissing);
        throw new HandoffLostError(`no answer came from the x1deploy process holding the cache clone within ${Math.round(maxWaitMs / 1000)} s`);
      }
      await answered.wait();
    }
  } finally {
    answered.close();
  }
}

/** How often a waiter looks whether its leader is still alive (and, without file events, for its answer). */
const LIVENESS_MS = 100;

/**
 * Wakes a waiter when its answer file appears, so that ten waiting processes do not spend the CPU
 * their leader needs on polling; it still wakes every LIVENESS_MS to see whether the leader died.
 */
function answerSignal(folder: Folder, id: string) {
  return fileSignal(folder.answers, (name) => name === `${id}.json`, LIVENESS_MS);
}

/**
 * Wakes whoever waits on it when a file `wanted` names appears in `dir` (inotify, through
 * fs.watch), when `wake` is called, or after about `pollMs` (jittered, so processes started together
 * do not look in step). Where file events are unavailable it only polls. A signal that came before
 * `wait` (since the last `reset`) is not lost.
 */
function fileSignal(dir: string, wanted: (name: string) => boolean, pollMs: number) {
  let signalled = false;
  let resolveWait: (() => void) | undefined;
  const wake = () => {
    signalled = true;
    resolveWait?.();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, (_event, name) => {
      if (name !== null && wanted(name)) wake();
    });
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined;
  }
  return {
    wake,
    reset: () => (signalled = false),
    wait: () =>
      signalled
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs * (0.75 + Math.random() / 2));
            resolveWait = () => {
              clearTimeout(timer);
              resolveWait = undefined;
              resolve();
            };
          }),
    close: () => watcher?.close(),
  };
}

/** The answer left for `id` (which is removed: it is read once), or undefined when there is none yet. */
async function readAnswer<R>(folder: Folder, id: string): Promise<R | undefined> {
  const path = join(folder.answers, `${id}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    ignoreMissing(err);
    return undefined;
  }
  await unlink(path).catch(ignoreMissing);
  let body: Answer<R>;
  try {
    body = JSON.parse(text) as Answer<R>;
  } catch {
    throw new HandoffLostError('the answer of the x1deploy process that ran this request could not be read');
  }
  if (body.ok) return body.value;
  throw errorFromAnswer(body.error);
}

async function writeAside(folder: string, id: string, text: string): Promise<void> {
  const aside = join(folder, `.${id}.tmp`);
  await writeFile(aside, text, { flag: 'wx', mode: 0o600 });
  await rename(aside, join(folder, `${id}.json`));
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException)?.code !== 'ENOENT') throw err;
}

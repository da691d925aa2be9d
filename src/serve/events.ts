// /events: what happens to previews, as Server-Sent Events of CloudEvents-shaped JSON, resumable
// with Last-Event-ID. Requests and deletes come from the service's own calls; builds, syncs and
// rollouts from a watcher that compares each preview's state with the one it saw last.
//
// The log lives in one process: event ids are `<epoch>-<n>`, the epoch new at each start. A client
// that resumes with an id this process did not give (another replica behind the same Service, a
// restart) or one older than the log keeps is told so with a stream.reset event first, as a
// Kubernetes watch answers 410 Gone: it re-reads the previews (GET /api/v1/previews) and follows
// on from there, instead of silently missing events.
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { LiveStatus } from '../observe/index.js';

export const EVENT_TYPES = [
  'dev.x1deploy.deploy.requested',
  'dev.x1deploy.build.started',
  'dev.x1deploy.build.finished',
  'dev.x1deploy.preview.synced',
  'dev.x1deploy.preview.ready',
  'dev.x1deploy.preview.degraded',
  'dev.x1deploy.preview.deleted',
  'dev.x1deploy.preview.reaped',
  'dev.x1deploy.stream.reset',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A CloudEvents 1.0 event (structured mode, JSON). */
export interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: EventType;
  /** `<app>/<branch>` (none on stream.reset). */
  readonly subject?: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: Record<string, unknown>;
}

const KEPT = 1000;

export class EventLog {
  private readonly events: CloudEvent[] = [];
  private readonly listeners = new Set<(e: CloudEvent | undefined) => void>();
  private next = 1;
  /** Set when the service stops: streams end so the server can close. */
  closed = false;

  constructor(
    private readonly source: string,
    readonly epoch: string = randomBytes(4).toString('hex'),
  ) {}

  append(type: EventType, subject: { app: string; branch: string }, data: Record<string, unknown>, now = new Date()): CloudEvent {
    const event: CloudEvent = {
      specversion: '1.0',
      id: `${this.epoch}-${this.next++}`,
      source: this.source,
      type,
      subject: `${subject.app}/${subject.branch}`,
      time: now.toISOString(),
      datacontenttype: 'application/json',
      data,
    };
    this.events.push(event);
    if (this.events.length > KEPT) this.events.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /**
   * The events after `lastId` (all kept ones without it), led by a stream.reset event when this log
   * cannot tell what came after it: an id of another process, or older than the log keeps.
   */
  after(lastId: string | undefined, now = new Date()): CloudEvent[] {
    if (lastId === undefined) return [...this.events];
    const m = /^([0-9a-f]{8})-(\d{1,15})$/.exec(lastId);
    const n = m ? Number(m[2]) : NaN;
    const oldest = this.events[0] ? this.sequence(this.events[0]) : this.next;
    if (m?.[1] === this.epoch && n < this.next && n >= oldest - 1) return this.events.filter((e) => this.sequence(e) > n);
    const why =
      m?.[1] === this.epoch
        ? `event ${lastId} is older than the ${KEPT} events this replica keeps`
        : `event ${lastId} was not given by this replica (another replica, or it restarted)`;
    const reset: CloudEvent = {
      specversion: '1.0',
      id: `${this.epoch}-${this.next - 1}`,
      source: this.source,
      type: 'dev.x1deploy.stream.reset',
      time: now.toISOString(),
      datacontenttype: 'application/json',
      data: {
        reason: 'CannotResume',
        message: `${why}: the events since then cannot be told`,
        fix: 're-read the previews (GET /api/v1/previews or branch_deploy_status) and follow the events from here',
      },
    };
    return [reset, ...this.events];
  }

  private sequence(event: CloudEvent): number {
    return Number(event.id.slice(this.epoch.length + 1));
  }

  /** `listener` gets each new event, and undefined once when the log closes. */
  subscribe(listener: (e: CloudEvent | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    for (const listener of this.listeners) listener(undefined);
  }
}

/** The events a change of one preview's state means (none when nothing changed). */
export function transitionEvents(before: LiveStatus | undefined, after: LiveStatus): EventType[] {
  if (before && before.state === after.state && before.version === after.version) return [];
  const was = before?.state;
  const out: EventType[] = [];
  if (after.state === 'building' && was !== 'building') out.push('dev.x1deploy.build.started');
  if ((was === 'building' || was === 'pending-build') && !['building', 'pending-build'].includes(after.state)) out.push('dev.x1deploy.build.finished');
  // Applied by the engine: rolling out or beyond, from a state before it (a slow look may skip rolling-out).
  const applied = ['rolling-out', 'ready', 'degraded'];
  if (['rolling-out', 'ready'].includes(after.state) && !applied.includes(was ?? '')) out.push('dev.x1deploy.preview.synced');
  if (after.state === 'ready') out.push('dev.x1deploy.preview.ready');
  if (after.state === 'degraded') out.push('dev.x1deploy.preview.degraded');
  if (after.state === 'reaped') out.push('dev.x1deploy.preview.reaped');
  return out;
}

export interface Watcher {
  stop(): void;
}

/**
 * Poll the previews' states and append what changed. A preview that disappears was deleted (when
 * the service deleted it, that event is already in the log) or reaped.
 */
export function watchPreviews(log: EventLog, read: () => Promise<LiveStatus[]>, intervalMs: number, deletedHere: Set<string>): Watcher {
  let last: Map<string, LiveStatus> | undefined;
  const vanished = new Map<string, LiveStatus>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      const now = new Map((await read()).map((s) => [`${s.app}/${s.branch}`, s]));
      if (last) {
        for (const [key, status] of now) {
          for (const type of transitionEvents(last.get(key), status)) {
            log.append(type, status, { state: status.state, reason: status.reason, fix: status.fix, version: status.version, url: status.url });
          }
        }
        // A preview gone since the last look was reaped unless the service deleted it. The service
        // says so once its delete has answered, which can come after the look that finds it gone:
        // so a gone preview is judged at the next look.
        for (const [key, gone] of vanished) {
          vanished.delete(key);
          if (now.has(key)) continue;
          if (!deletedHere.delete(key)) log.append('dev.x1deploy.preview.reaped', gone, { version: gone.version, url: gone.url });
        }
        for (const [key, gone] of last) {
          if (now.has(key)) continue;
          if (!deletedHere.delete(key)) vanished.set(key, gone);
        }
      }
      last = now;
    } catch {
      // A failed look is tried again at the next tick; the log stays as it was.
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  void tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** GET /events: replay after Last-Event-ID, then follow. */
export function eventStream(c: Context, log: EventLog): Response {
  const lastId = c.req.header('last-event-id') ?? c.req.query('last_event_id');
  return streamSSE(c, async (stream) => {
    const queue: CloudEvent[] = log.after(lastId);
    let wake: (() => void) | undefined;
    const unsubscribe = log.subscribe((e) => {
      if (e) queue.push(e);
      wake?.();
    });
    stream.onAbort(() => {
      unsubscribe();
      wake?.();
    });
    try {
      while (!stream.aborted && !log.closed) {
        while (queue.length > 0) {
          const e = queue.shift()!;
          await stream.writeSSE({ id: e.id, event: e.type, data: JSON.stringify(e) });
        }
        // Wait for the next event, or 15 s for a keep-alive comment that proxies do not time out.
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 15_000).unref();
        });
        wake = undefined;
        if (queue.length === 0 && !stream.aborted && !log.closed) await stream.write(': keep-alive\n\n');
      }
    } finally {
      unsubscribe();
    }
  });
}

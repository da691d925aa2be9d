// The build command's two ways to run. `--once` passes until every version that was pending has
// its outcome recorded (a CronJob run, or a person waiting for a build); `--watch` passes forever,
// one pass per interval, until it is stopped.
import type { GitopsStore } from '../records/index.js';
import { buildPass, isRecorded, isSettled, type BuildEvent, type BuildPassOptions, type RecordedEvent } from './build-pass.js';

export interface BuildLoopOptions extends BuildPassOptions {
  /** Pause between passes. */
  readonly intervalMs: number;
  /** Stops the loop between passes (SIGTERM). */
  readonly signal?: AbortSignal;
  /** Called after each pass with what it did. */
  readonly onPass?: (events: readonly BuildEvent[]) => void;
}

export interface BuildOnceResult {
  /** Every outcome recorded, in order. */
  readonly recorded: RecordedEvent[];
  /** Proposed versions built ahead of their merge, as the last pass saw them. */
  readonly prebuilt: BuildEvent[];
  /** What was still in flight when the loop was stopped (empty when it ran to the end). */
  readonly unfinished: BuildEvent[];
  readonly passes: number;
}

export async function buildUntilSettled(store: GitopsStore, options: BuildLoopOptions): Promise<BuildOnceResult> {
  const recorded: RecordedEvent[] = [];
  for (let passes = 1; ; passes++) {
    const events = await buildPass(store, options);
    options.onPass?.(events);
    recorded.push(...events.filter(isRecorded));
    const prebuilt = events.filter((e) => e.kind === 'prebuilt');
    if (isSettled(events)) return { recorded, prebuilt, unfinished: [], passes };
    if (!(await pause(options.intervalMs, options.signal))) {
      return { recorded, prebuilt, unfinished: events.filter((e) => !isRecorded(e) && e.kind !== 'prebuilt'), passes };
    }
  }
}

/**
 * Pass, pause, pass… until the signal fires. A pass that throws (the API server or the registry
 * briefly away) is reported and the next pass tries again: the loop has no state to lose.
 */
export async function watchBuilds(
  store: GitopsStore,
  options: BuildLoopOptions & { readonly onError: (err: unknown) => void },
): Promise<number> {
  let passes = 0;
  do {
    passes++;
    try {
      options.onPass?.(await buildPass(store, options));
    } catch (err) {
      options.onError(err);
    }
  } while (await pause(options.intervalMs, options.signal));
  return passes;
}

/** Wait `ms`; false when the signal fired (before or during the wait). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (goOn: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(goOn);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

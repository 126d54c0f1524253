/** Bounded polling for state that announces no event (a key in etcd, a row in MongoDB). */

export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

export interface WaitOptions {
  readonly timeoutMs: number;
  /** Completes the sentence "timed out after Nms waiting for <what>". */
  readonly what: string;
  readonly intervalMs?: number;
  /** Ends the wait early (e.g. the server being probed has exited). */
  readonly signal?: AbortSignal;
}

export class WaitTimeoutError extends Error {
  readonly code = 'wait_timeout';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Calls `check` until it returns a truthy value and resolves with that value. A check that
 * throws counts as "not yet" (a server may refuse connections while it starts); the last error
 * is reported as the cause if time runs out. A check that hangs is abandoned at the deadline.
 */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  options: WaitOptions,
): Promise<Truthy<T>> {
  const { timeoutMs, what, intervalMs = 25, signal } = options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) break;
    try {
      const value = await withDeadline(Promise.resolve().then(check), remainingMs, signal);
      if (value.settled && value.result) return value.result as Truthy<T>;
    } catch (error) {
      signal?.throwIfAborted();
      lastError = error;
    }
    const pauseMs = Math.min(intervalMs, deadline - performance.now());
    if (pauseMs > 0) await pause(pauseMs, signal);
  }
  const reason = lastError === undefined ? '' : ` (last error: ${describe(lastError)})`;
  throw new WaitTimeoutError(
    `timed out after ${timeoutMs}ms waiting for ${what}${reason}`,
    lastError === undefined ? undefined : { cause: lastError },
  );
}

/** Settles with the promise's value, or `{ settled: false }` once `ms` have passed. */
function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<{ settled: true; result: T } | { settled: false; result?: undefined }> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ settled: false });
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (result) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve({ settled: true, result });
      },
      (error: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

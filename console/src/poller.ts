/**
 * Refreshes a view every few seconds: one refresh at a time (the next is timed from the end of
 * the last, so a slow API is never asked twice at once), none while the tab is hidden.
 */

export interface Poller {
  /** Refreshes now, then on the usual interval. */
  refresh(): Promise<void>;
  stop(): void;
}

/** `onError` sees what a refresh threw; the next refresh comes all the same. */
export function startPolling(
  task: () => Promise<void>,
  intervalMs: number,
  onError: (error: unknown) => void,
): Poller {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let inFlight: Promise<void> | undefined;

  const schedule = (): void => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => void run(), intervalMs);
  };

  function run(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (document.hidden) {
      schedule();
      return Promise.resolve();
    }
    // A refresh asked for during another joins it rather than racing it.
    inFlight ??= task()
      .catch(onError)
      .finally(() => {
        inFlight = undefined;
        schedule();
      });
    return inFlight;
  }

  const onVisible = (): void => {
    if (!document.hidden) void run();
  };
  document.addEventListener('visibilitychange', onVisible);
  void run();
  return {
    refresh: run,
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    },
  };
}

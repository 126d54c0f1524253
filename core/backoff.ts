/** Capped exponential backoff with full jitter; callers reset `attempt` once healthy. */

export interface BackoffOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt, 30));
  // Half fixed, half jitter: never zero, never synchronised across a fleet.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

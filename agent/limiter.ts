/**
 * At most `concurrency` tasks at a time, the rest started in the order they were queued. The
 * dispatcher puts its claim transactions through one: a burst of thousands of ticks due in the
 * same second, sent at once, overran the etcd client's call deadline and opened its circuit
 * breaker, so most of those ticks were never claimed at all. Queued, they go through at etcd's
 * pace, and a lower-ranked agent's fallback claim, when its turn comes, usually finds that its
 * watch has meanwhile seen the tick claimed and sends nothing.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks queued and not yet started. */
  readonly waiting: number;
}

export function createLimiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  let active = 0;
  const queue: (() => void)[] = [];

  const release = (): void => {
    active--;
    const next = queue.shift();
    if (next) {
      active++;
      next();
    }
  };

  return {
    get waiting() {
      return queue.length;
    },
    run<T>(task: () => Promise<T>): Promise<T> {
      const start = (): Promise<T> => task().finally(release);
      if (active < concurrency) {
        active++;
        return start();
      }
      return new Promise<T>((resolve, reject) => {
        queue.push(() => {
          start().then(resolve, reject);
        });
      });
    },
  };
}

/**
 * When each `forbid` job's lock was last held, as this agent's watch saw it, so that a gap of
 * skipped ticks can say why: ticks that fell while the previous run still held the lock were
 * skipped by design (concurrency forbid), not because no agent claimed them.
 *
 * Times are when the watch delivered the change, a little after etcd applied it; a lock is seen
 * taken a little late and released a little late, which keeps "held throughout" honest for ticks
 * that fall well inside a run (the first missed tick comes a whole period after the claim).
 */
export interface LockHistory {
  changed(jobName: string, held: boolean): void;
  /** True when the job's lock was held at every instant of [fromMs, toMs]. */
  heldThroughout(jobName: string, fromMs: number, toMs: number): boolean;
  forget(jobName: string): void;
}

interface HeldSpan {
  readonly since: number;
  until: number | null;
}

export function createLockHistory(now: () => number): LockHistory {
  const spans = new Map<string, HeldSpan>();
  return {
    changed(jobName, held) {
      const span = spans.get(jobName);
      if (held) {
        if (!span || span.until !== null) spans.set(jobName, { since: now(), until: null });
      } else if (span && span.until === null) span.until = now();
    },
    heldThroughout(jobName, fromMs, toMs) {
      const span = spans.get(jobName);
      return span !== undefined && span.since <= fromMs && (span.until ?? Infinity) >= toMs;
    },
    forget(jobName) {
      spans.delete(jobName);
    },
  };
}

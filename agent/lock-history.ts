/**
 * When each `forbid` job's lock was recently held, as this agent's watch saw it, so that a gap of
 * skipped ticks can say why: ticks that fell while the previous run still held the lock were
 * skipped by design (concurrency forbid), not because no agent claimed them.
 *
 * Times are when the watch delivered the change, a little after etcd applied it. A late claim
 * takes the lock after its tick, so a skipped tick counts as the lock's when a span of it falls
 * anywhere from that tick to the end of the tick's misfire window, or to the claim that found
 * the gap if that came first (the dispatcher's reportSkips). Several spans are kept: the agent
 * reporting a gap has just taken the lock again, and its watch may show that first.
 */
export interface LockHistory {
  changed(jobName: string, held: boolean): void;
  /** True when the job's lock was held at some time in [fromMs, toMs]. */
  heldDuring(jobName: string, fromMs: number, toMs: number): boolean;
  forget(jobName: string): void;
}

interface HeldSpan {
  readonly since: number;
  until: number | null;
}

const SPANS_KEPT = 4;

export function createLockHistory(now: () => number): LockHistory {
  const spansByJob = new Map<string, HeldSpan[]>();
  return {
    changed(jobName, held) {
      const spans = spansByJob.get(jobName) ?? [];
      const last = spans.at(-1);
      if (held) {
        if (last && last.until === null) return;
        spans.push({ since: now(), until: null });
        if (spans.length > SPANS_KEPT) spans.shift();
        spansByJob.set(jobName, spans);
      } else if (last && last.until === null) last.until = now();
    },
    heldDuring(jobName, fromMs, toMs) {
      return (spansByJob.get(jobName) ?? []).some(
        (span) => span.since <= toMs && (span.until ?? Infinity) >= fromMs,
      );
    },
    forget(jobName) {
      spansByJob.delete(jobName);
    },
  };
}

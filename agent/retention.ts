/**
 * Retention: once per period, exactly one agent (the one whose claim of the period wins in
 * etcd) deletes run-log records older than the retention with `deleteMany` — no TTL index,
 * which FerretDB 1.x lacks — and the tick keys of deleted jobs that no agent can claim from
 * any more (older than the longest misfire window).
 */
import type { Db } from 'mongodb';
import { RUN_LOG_COLLECTION } from '../core/run-log.ts';
import type { Claims } from './claim.ts';
import { MAX_MISFIRE_WINDOW_MS } from './config.ts';

export interface RetentionOptions {
  readonly retentionDays: number;
  readonly periodMs: number;
  readonly now: () => number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export function startRetention(
  db: Db,
  claims: Claims,
  options: RetentionOptions,
): { stop(): void } {
  const emit = options.onEvent ?? (() => undefined);
  const sweep = async (): Promise<void> => {
    const periodStartMs = Math.floor(options.now() / options.periodMs) * options.periodMs;
    if (!(await claims.claimChore('retention', periodStartMs))) return;
    const ticksSwept = await claims.sweepTicksOfDeletedJobs(options.now() - MAX_MISFIRE_WINDOW_MS);
    if (ticksSwept > 0) emit('retention:ticksSwept', { count: ticksSwept });
    if (options.retentionDays <= 0) return;
    const cutoffMs = options.now() - options.retentionDays * 86_400_000;
    const result = await db
      .collection(RUN_LOG_COLLECTION)
      .deleteMany({ endTime: { $lt: cutoffMs } });
    emit('retention:swept', { deleted: result.deletedCount, cutoffMs });
  };
  const tick = (): void => {
    sweep().catch((error: unknown) => emit('retention:failed', { error: String(error) }));
  };
  const first = setTimeout(tick, 5_000);
  const timer = setInterval(tick, Math.min(options.periodMs, 3_600_000));
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}

/**
 * Run-log retention: once per period, exactly one agent (the one whose claim of the period wins
 * in etcd) deletes records older than the retention with `deleteMany` — no TTL index, which
 * FerretDB 1.x lacks.
 */
import type { Db } from 'mongodb';
import { RUN_LOG_COLLECTION } from '../core/run-log.ts';
import type { Claims } from './claim.ts';

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
    if (options.retentionDays <= 0) return;
    const periodStartMs = Math.floor(options.now() / options.periodMs) * options.periodMs;
    if (!(await claims.claimChore('retention', periodStartMs))) return;
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

/** Writing benchmark jobs straight into etcd, and the tick arithmetic of their schedules. */
import type { Etcd3 } from 'etcd3';
import { parseSchedule } from '../../core/cron/schedule.ts';
import type { KeyLayout } from '../../core/keys.ts';

export interface BenchJob {
  readonly name: string;
  readonly cronExpr: string;
  readonly command?: string;
  readonly concurrency?: 'forbid' | 'allow';
}

const PUT_CONCURRENCY = 256;

/** Puts the jobs (as the API would store them, `updatedAt` now), a bounded number at a time. */
export async function putJobs(
  etcd: Etcd3,
  keys: KeyLayout,
  jobs: readonly BenchJob[],
): Promise<void> {
  const updatedAt = Date.now();
  for (let i = 0; i < jobs.length; i += PUT_CONCURRENCY) {
    await Promise.all(
      jobs.slice(i, i + PUT_CONCURRENCY).map((job) =>
        etcd.put(keys.job(job.name)).value(
          JSON.stringify({
            name: job.name,
            command: job.command ?? 'true',
            cronExpr: job.cronExpr,
            concurrency: job.concurrency ?? 'forbid',
            updatedAt,
          }),
        ),
      ),
    );
  }
}

/** Deletes every job under the prefix in one request. */
export async function deleteAllJobs(etcd: Etcd3, keys: KeyLayout): Promise<void> {
  await etcd.delete().prefix(keys.jobsPrefix);
}

/** Ticks of `cronExpr` (UTC) in [fromMs, toMs). */
export function ticksBetween(cronExpr: string, fromMs: number, toMs: number): number[] {
  const schedule = parseSchedule(cronExpr, 'UTC');
  const ticks: number[] = [];
  let tick = schedule.next(fromMs - 1);
  while (tick !== null && tick < toMs && ticks.length < 100_000) {
    ticks.push(tick);
    tick = schedule.next(tick);
  }
  return ticks;
}

/** The first tick of `cronExpr` (UTC) at or after `fromMs`, or null when it has ended. */
export function firstTickFrom(cronExpr: string, fromMs: number): number | null {
  return parseSchedule(cronExpr, 'UTC').next(fromMs - 1);
}

/** A 7-field expression that fires once, at `atMs` (whole second, UTC). */
export function oneShot(atMs: number): string {
  const d = new Date(atMs);
  return [
    d.getUTCSeconds(),
    d.getUTCMinutes(),
    d.getUTCHours(),
    d.getUTCDate(),
    d.getUTCMonth() + 1,
    '*',
    d.getUTCFullYear(),
  ].join(' ');
}

/** The next whole second at least `leadMs` from now. */
export function secondAfter(leadMs: number): number {
  return Math.ceil((Date.now() + leadMs) / 1000) * 1000;
}

export function padded(prefix: string, i: number, width = 5): string {
  return `${prefix}-${String(i).padStart(width, '0')}`;
}

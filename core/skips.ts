/**
 * Visible skips (the SRE rule: skip rather than double-run, and make every skip visible). When
 * an agent claims a tick and the tick claimed before it is older than the schedule's previous
 * fire time, the ticks in between were never run; they become one `skipped` record.
 */
import type { Schedule } from './cron/schedule.ts';
import type { Job } from './job.ts';
import type { RunRecord, SkipInfo } from './run-log.ts';

/** Enough to describe any realistic outage exactly; a longer gap reports "at least" this many. */
export const MAX_COUNTED_SKIPS = 10_000;

export interface MissedTicks {
  readonly count: number;
  readonly firstMissed: number;
  readonly lastMissed: number;
  readonly countIsExact: boolean;
}

/**
 * Ticks of `schedule` strictly between `previousTick` and `tickMs`, ignoring those before
 * `notBeforeMs` (the job's last change: a new schedule does not owe the old one's ticks).
 */
export function missedTicks(
  schedule: Schedule,
  previousTick: number,
  tickMs: number,
  notBeforeMs: number,
): MissedTicks | null {
  const from = Math.max(previousTick, notBeforeMs - 1);
  const first = schedule.next(from);
  if (first === null || first >= tickMs) return null;
  let count = 0;
  let last = first;
  for (let t: number | null = first; t !== null && t < tickMs; t = schedule.next(t)) {
    last = t;
    if (++count >= MAX_COUNTED_SKIPS) {
      return {
        count,
        firstMissed: first,
        lastMissed: schedule.previous(tickMs) ?? last,
        countIsExact: false,
      };
    }
  }
  return { count, firstMissed: first, lastMissed: last, countIsExact: true };
}

export function skipRunId(jobName: string, firstMissedMs: number): string {
  return `skip.${jobName}.${firstMissedMs}`;
}

export interface SkipRecordContext {
  readonly agentId: string;
  readonly host: string;
  readonly nowMs: number;
  readonly reason: string;
}

/** The record of a gap; its run id is derived from the gap, so two agents reporting it collapse. */
export function skipRecord(job: Job, missed: MissedTicks, context: SkipRecordContext): RunRecord {
  const skip: SkipInfo = {
    count: missed.count,
    firstMissed: missed.firstMissed,
    lastMissed: missed.lastMissed,
    reason: context.reason,
  };
  const counted = missed.countIsExact ? `${missed.count}` : `at least ${missed.count}`;
  return {
    runId: skipRunId(job.name, missed.firstMissed),
    jobName: job.name,
    command: job.command,
    err: `${counted} tick${missed.count === 1 ? '' : 's'} skipped: ${context.reason}`,
    output: '',
    outputTruncated: false,
    planTime: missed.firstMissed,
    scheduleTime: context.nowMs,
    startTime: context.nowMs,
    endTime: context.nowMs,
    agentId: context.agentId,
    host: context.host,
    status: 'skipped',
    exitCode: null,
    signal: null,
    attempt: 1,
    trigger: 'schedule',
    triggeredBy: null,
    skip,
  };
}

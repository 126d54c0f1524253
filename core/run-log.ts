/**
 * The run-log record in MongoDB (database `cron`, collection `log`). Field names follow the Go
 * crontab (`jobName`, `command`, `err`, `output`, `planTime`, `scheduleTime`, `startTime`,
 * `endTime`, all epoch ms); the rest is cronplane's.
 */
import { isValidName, isValidRunId } from './names.ts';

/** `skipped` records a gap of ticks nobody ran (see SkipInfo); the others end a real run. */
export const RUN_STATUSES = [
  'succeeded',
  'failed',
  'killed',
  'timeout',
  'lost',
  'skipped',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const RUN_TRIGGERS = ['schedule', 'manual'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** One `skipped` record covers every tick missed between two claimed ticks. */
export interface SkipInfo {
  readonly count: number;
  readonly firstMissed: number;
  readonly lastMissed: number;
  readonly reason: string;
}

export const RUN_LOG_COLLECTION = 'log';
/**
 * Where summaries were kept before they were spread over shards: read for jobs no shard knows
 * yet (a job that has not run since the upgrade), never written.
 */
export const LEGACY_LAST_RUN_COLLECTION = 'last_run';

/**
 * Last-run summaries are spread over this many collections by a hash of the job's name. The
 * embedded MongoDB-wire server (FerretDB 1.24 on SQLite) scans a whole collection for each
 * upsert, and every run updates its job's summary: a shard holds 1/64 of the summaries, so an
 * update costs about a millisecond with 200 jobs (6 ms in one collection) and a few with
 * 10,000 (35 ms). On MongoDB each shard is an indexed collection like any other.
 */
export const LAST_RUN_SHARDS = 64;

/** FNV-1a over the name's UTF-16 code units: stable across runtimes and releases. */
function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The collection holding a job's last-run summary, `last_run_00` … `last_run_63`. */
export function lastRunCollection(jobName: string): string {
  return `last_run_${String(nameHash(jobName) % LAST_RUN_SHARDS).padStart(2, '0')}`;
}

/** Items grouped by the last-run collection of their job, for one command per collection. */
export function byLastRunCollection<T>(
  items: Iterable<T>,
  jobNameOf: (item: T) => string,
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const collection = lastRunCollection(jobNameOf(item));
    const group = groups.get(collection);
    if (group) group.push(item);
    else groups.set(collection, [item]);
  }
  return groups;
}

export function lastRunCollections(): string[] {
  return Array.from(
    { length: LAST_RUN_SHARDS },
    (_, i) => `last_run_${String(i).padStart(2, '0')}`,
  );
}
export const DEFAULT_DATABASE = 'cron';

export interface RunRecord {
  readonly runId: string;
  readonly jobName: string;
  readonly command: string;
  /** Why the run did not succeed, human-readable; empty on success. */
  readonly err: string;
  readonly output: string;
  readonly outputTruncated: boolean;
  /** The tick the run serves. */
  readonly planTime: number;
  /** When the agent fired the tick (after winning its claim). */
  readonly scheduleTime: number;
  readonly startTime: number;
  readonly endTime: number;
  readonly agentId: string;
  readonly host: string;
  readonly status: RunStatus;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** 1 for the first attempt at a tick; retries count up with the same planTime. */
  readonly attempt: number;
  readonly trigger: RunTrigger;
  /** Who asked for a manual run. */
  readonly triggeredBy: string | null;
  /** Set on `skipped` records only. */
  readonly skip: SkipInfo | null;
}

/** The per-job summary kept by upsert for the job list. */
export interface LastRunSummary {
  readonly jobName: string;
  readonly runId: string;
  readonly status: RunStatus;
  readonly planTime: number;
  readonly startTime: number;
  readonly endTime: number;
  readonly exitCode: number | null;
  readonly agentId: string;
}

export function summarizeRun(record: RunRecord): LastRunSummary {
  return {
    jobName: record.jobName,
    runId: record.runId,
    status: record.status,
    planTime: record.planTime,
    startTime: record.startTime,
    endTime: record.endTime,
    exitCode: record.exitCode,
    agentId: record.agentId,
  };
}

export function isRunStatus(value: unknown): value is RunStatus {
  return typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value);
}

type Shape = Record<string, unknown>;
const isShape = (v: unknown): v is Shape =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string';
const isExitCode = (v: unknown): v is number | null =>
  v === null || (typeof v === 'number' && Number.isSafeInteger(v));
const isSignal = (v: unknown): v is string | null => v === null || typeof v === 'string';

function toSkipInfo(v: unknown): SkipInfo | null | undefined {
  if (v === null || v === undefined) return null;
  if (
    !isShape(v) ||
    !isCount(v.count) ||
    !isCount(v.firstMissed) ||
    !isCount(v.lastMissed) ||
    !isText(v.reason)
  )
    return undefined;
  return { count: v.count, firstMissed: v.firstMissed, lastMissed: v.lastMissed, reason: v.reason };
}

/**
 * Reads a run record from a stored document, a response or the spill journal; null when it is
 * not a whole record. Extra fields (`_id`) are dropped. Records written before `attempt`,
 * `trigger`, `triggeredBy` and `skip` existed read as a first scheduled attempt.
 */
export function toRunRecord(value: unknown): RunRecord | null {
  if (!isShape(value)) return null;
  const v = value;
  const attempt = v.attempt ?? 1;
  const trigger = v.trigger ?? 'schedule';
  const triggeredBy = v.triggeredBy ?? null;
  const skip = toSkipInfo(v.skip);
  if (
    !isValidRunId(v.runId) ||
    !isValidName(v.jobName) ||
    !isText(v.command) ||
    !isText(v.err) ||
    !isText(v.output) ||
    typeof v.outputTruncated !== 'boolean' ||
    !isCount(v.planTime) ||
    !isCount(v.scheduleTime) ||
    !isCount(v.startTime) ||
    !isCount(v.endTime) ||
    !isText(v.agentId) ||
    !isText(v.host) ||
    !isRunStatus(v.status) ||
    !isExitCode(v.exitCode) ||
    !isSignal(v.signal) ||
    !isCount(attempt) ||
    attempt < 1 ||
    !(RUN_TRIGGERS as readonly unknown[]).includes(trigger) ||
    !(triggeredBy === null || isText(triggeredBy)) ||
    skip === undefined
  ) {
    return null;
  }
  return {
    runId: v.runId,
    jobName: v.jobName,
    command: v.command,
    err: v.err,
    output: v.output,
    outputTruncated: v.outputTruncated,
    planTime: v.planTime,
    scheduleTime: v.scheduleTime,
    startTime: v.startTime,
    endTime: v.endTime,
    agentId: v.agentId,
    host: v.host,
    status: v.status,
    exitCode: v.exitCode,
    signal: v.signal,
    attempt,
    trigger: trigger as RunTrigger,
    triggeredBy,
    skip,
  };
}

/** Reads a record back from one line of JSON (the spill journal). */
export function readRunRecord(json: string): RunRecord | null {
  try {
    return toRunRecord(JSON.parse(json));
  } catch {
    return null;
  }
}

/**
 * The run-log record in MongoDB (database `cron`, collection `log`). Field names follow the Go
 * crontab (`jobName`, `command`, `err`, `output`, `planTime`, `scheduleTime`, `startTime`,
 * `endTime`, all epoch ms); the rest is cronplane's.
 */

export const RUN_STATUSES = ['succeeded', 'failed', 'killed', 'timeout', 'lost'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RUN_LOG_COLLECTION = 'log';
export const LAST_RUN_COLLECTION = 'last_run';
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

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Reads a record back from JSON (the spill journal); null when it is not a whole record. */
export function readRunRecord(json: string): RunRecord | null {
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const r = o as Record<string, unknown>;
  const valid =
    isStr(r.runId) &&
    isStr(r.jobName) &&
    isStr(r.command) &&
    isStr(r.err) &&
    isStr(r.output) &&
    typeof r.outputTruncated === 'boolean' &&
    isNum(r.planTime) &&
    isNum(r.scheduleTime) &&
    isNum(r.startTime) &&
    isNum(r.endTime) &&
    isStr(r.agentId) &&
    isStr(r.host) &&
    isRunStatus(r.status) &&
    (r.exitCode === null || isNum(r.exitCode)) &&
    (r.signal === null || isStr(r.signal));
  return valid ? (r as unknown as RunRecord) : null;
}

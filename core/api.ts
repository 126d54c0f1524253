/**
 * Wire types of the public HTTP API (`/v1`) and their readers. The control plane produces these
 * shapes; the CLI, the console and the relay client read them back through the readers here, so
 * nothing that crossed a network hop is used unchecked.
 */
import type { Job } from './job.ts';
import { validateJob } from './job.ts';
import type { RunningEntry } from './coordination.ts';
import type { ErrorCode } from './errors.ts';
import type { AgentHealthView } from './health.ts';
import type { LastRunSummary, RunRecord } from './run-log.ts';
import { isRunStatus, toRunRecord } from './run-log.ts';

export { toRunRecord } from './run-log.ts';
import { isValidName, isValidRunId } from './names.ts';
import { isCount, isInteger, isRecord, isString } from './wire.ts';

/** Largest request body the API and the relay accept; a job is at most ~66 KiB of JSON. */
export const MAX_REQUEST_BODY_BYTES = 256 * 1024;
export const DEFAULT_RUNS_PAGE_SIZE = 20;
export const MAX_RUNS_PAGE_SIZE = 100;
/** Run lists carry only the head of each run's output; `GET /v1/runs/:runId` has all of it. */
export const RUN_OUTPUT_PREVIEW_CHARS = 2048;
export const DEFAULT_CRON_PREVIEW_COUNT = 5;
export const MAX_CRON_PREVIEW_COUNT = 100;

/** The HTTP status of each error code, shared by the control plane and the relay. */
export const HTTP_STATUS_BY_CODE = {
  invalid_input: 400,
  invalid_cron: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unavailable: 503,
  // A configuration error surfacing during a request is the server's fault, not the caller's.
  invalid_config: 500,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

export const ROLES = ['admin', 'viewer', 'agent'] as const;
export type Role = (typeof ROLES)[number];

/** A job as stored, with the etcd mod revision that `If-Match` compares against. */
export interface VersionedJob {
  readonly job: Job;
  /** etcd mod revision of the job's key, a decimal string (int64 does not fit a JS number). */
  readonly revision: string;
}

export interface JobView extends VersionedJob {
  readonly lastRun: LastRunSummary | null;
}

export interface JobListResponse {
  readonly jobs: readonly JobView[];
}

export type RunListItem = Omit<RunRecord, 'output'> & {
  /** The first RUN_OUTPUT_PREVIEW_CHARS characters of the output. */
  readonly output: string;
  /** True when `output` here is shorter than the stored output. */
  readonly outputClipped: boolean;
};

export interface RunPage {
  readonly runs: readonly RunListItem[];
  /** Pass as `before` to get the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface RunResponse {
  readonly run: RunRecord;
}

/**
 * One agent as `GET /v1/workers` shows it: its etcd registration merged with its live health.
 * An agent known only to the health hub (its etcd session is lost, or it was never registered)
 * is listed too, with `registered: false` and its identity from its health `hello`.
 */
export interface WorkerView {
  readonly agentId: string;
  readonly host: string;
  /** Null when the agent is not registered in etcd. */
  readonly ip: string | null;
  /** Null when the agent is not registered in etcd. */
  readonly pid: number | null;
  readonly version: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startedAt: number;
  /** Holds a registration at `/cron/workers/<agentId>` (its etcd session is alive). */
  readonly registered: boolean;
  /** Null when no health session of the agent is known to the control plane. */
  readonly health: AgentHealthView | null;
}

export interface WorkersResponse {
  readonly workers: readonly WorkerView[];
}

export interface RunningResponse {
  readonly running: readonly RunningEntry[];
}

export interface CronNextResponse {
  readonly expr: string;
  readonly timezone: string;
  /** ISO-8601 instants; fewer than asked for when the schedule ends. */
  readonly next: readonly string[];
}

export interface HealthCheck {
  readonly ok: boolean;
  readonly error?: string;
}

export interface HealthReport {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, HealthCheck>>;
}

const REVISION_PATTERN = /^[1-9][0-9]{0,18}$/;

export function isRevision(value: unknown): value is string {
  return typeof value === 'string' && REVISION_PATTERN.test(value);
}

/** Position in a job's run history, newest first: (planTime, startTime, runId) descending. */
export interface RunCursor {
  readonly planTime: number;
  readonly startTime: number;
  readonly runId: string;
}

// ':' never occurs in a run id, so the cursor splits unambiguously; it is opaque to callers.
const CURSOR_PATTERN = /^(\d{1,16}):(\d{1,16}):([A-Za-z0-9._-]{1,128})$/;

export function encodeRunCursor(cursor: RunCursor): string {
  return `${cursor.planTime}:${cursor.startTime}:${cursor.runId}`;
}

export function decodeRunCursor(text: string): RunCursor | null {
  const match = CURSOR_PATTERN.exec(text);
  if (!match) return null;
  const [, planTime, startTime, runId] = match;
  if (!isValidRunId(runId)) return null;
  return { planTime: Number(planTime), startTime: Number(startTime), runId };
}

export function previewRun(record: RunRecord): RunListItem {
  const clipped = record.output.length > RUN_OUTPUT_PREVIEW_CHARS;
  return {
    ...record,
    output: clipped ? record.output.slice(0, RUN_OUTPUT_PREVIEW_CHARS) : record.output,
    outputClipped: clipped,
  };
}

const isExitCode = (value: unknown): value is number | null => value === null || isInteger(value);

export function toRunListItem(value: unknown): RunListItem | null {
  if (!isRecord(value) || typeof value.outputClipped !== 'boolean') return null;
  const record = toRunRecord(value);
  return record ? { ...record, outputClipped: value.outputClipped } : null;
}

export function toLastRunSummary(value: unknown): LastRunSummary | null {
  if (!isRecord(value)) return null;
  const v = value;
  if (
    !isValidName(v.jobName) ||
    !isValidRunId(v.runId) ||
    !isRunStatus(v.status) ||
    !isCount(v.planTime) ||
    !isCount(v.startTime) ||
    !isCount(v.endTime) ||
    !isExitCode(v.exitCode) ||
    !isString(v.agentId)
  ) {
    return null;
  }
  return {
    jobName: v.jobName,
    runId: v.runId,
    status: v.status,
    planTime: v.planTime,
    startTime: v.startTime,
    endTime: v.endTime,
    exitCode: v.exitCode,
    agentId: v.agentId,
  };
}

export function toVersionedJob(value: unknown): VersionedJob | null {
  if (!isRecord(value) || !isRevision(value.revision)) return null;
  const result = validateJob(value.job);
  return result.ok ? { job: result.job, revision: value.revision } : null;
}

export function toJobView(value: unknown): JobView | null {
  if (!isRecord(value)) return null;
  const versioned = toVersionedJob(value);
  if (!versioned) return null;
  if (value.lastRun === null) return { ...versioned, lastRun: null };
  const lastRun = toLastRunSummary(value.lastRun);
  return lastRun ? { ...versioned, lastRun } : null;
}

export function toRunPage(value: unknown): RunPage | null {
  if (!isRecord(value) || !Array.isArray(value.runs)) return null;
  const { nextCursor } = value;
  if (nextCursor !== null && !(isString(nextCursor) && decodeRunCursor(nextCursor))) return null;
  const runs = toListOf(value.runs, toRunListItem);
  return runs ? { runs, nextCursor } : null;
}

export function toHealthReport(value: unknown): HealthReport | null {
  if (!isRecord(value) || typeof value.ok !== 'boolean' || !isRecord(value.checks)) return null;
  const checks: Record<string, HealthCheck> = {};
  for (const [name, check] of Object.entries(value.checks)) {
    if (!isRecord(check) || typeof check.ok !== 'boolean') return null;
    checks[name] = isString(check.error) ? { ok: check.ok, error: check.error } : { ok: check.ok };
  }
  return { ok: value.ok, checks };
}

/** Every element read, or null when any one is invalid. */
export function toListOf<T>(values: unknown, read: (value: unknown) => T | null): T[] | null {
  if (!Array.isArray(values)) return null;
  const out: T[] = [];
  for (const value of values) {
    const item = read(value);
    if (item === null) return null;
    out.push(item);
  }
  return out;
}

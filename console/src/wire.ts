/**
 * Readers for what the API sends, checked before use. They are deliberately lenient about run
 * statuses and trigger names (rendered as text whatever they are), so a newer control plane with
 * a new status still shows; they are strict about the shapes the views compute with.
 */
import type { JobView, WorkerView } from '../../core/api.ts';
import type { RunningEntry } from '../../core/coordination.ts';
import type { AgentHealthView, ExecutorHealth, Heartbeat, ViewerFrame } from '../../core/health.ts';
import type { Job, JobNotify } from '../../core/job.ts';
import { isCount, isInteger, isRecord, isString } from '../../core/wire.ts';

export interface Principal {
  readonly name: string;
  readonly role: string;
}

/** The last-run summary the job list carries. */
export interface LastRunView {
  readonly runId: string;
  readonly status: string;
  readonly planTime: number;
  readonly startTime: number;
  readonly endTime: number;
}

export interface JobRow extends Omit<JobView, 'lastRun'> {
  readonly lastRun: LastRunView | null;
}

export interface RunView {
  readonly runId: string;
  readonly jobName: string;
  readonly command: string;
  /** Why the run did not succeed; empty on success. */
  readonly err: string;
  readonly output: string;
  readonly outputTruncated: boolean;
  /** Only in run lists: the output here is a preview. */
  readonly outputClipped: boolean;
  readonly planTime: number;
  readonly scheduleTime: number;
  readonly startTime: number;
  readonly endTime: number;
  readonly agentId: string;
  readonly host: string;
  readonly status: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly attempt?: number;
  readonly trigger?: string;
  readonly triggeredBy?: string;
  /** On `skipped` records: the ticks nobody ran. */
  readonly skip?: SkipView;
}

export interface SkipView {
  readonly count: number;
  readonly firstMissed: number;
  readonly lastMissed: number;
  readonly reason: string;
}

export interface RunPageView {
  readonly runs: readonly RunView[];
  readonly nextCursor: string | null;
}

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every(isString);
const isStringMap = (value: unknown): value is Record<string, string> =>
  isRecord(value) && Object.values(value).every(isString);

/** Every element read, or null when any one is invalid. */
function listOf<T>(value: unknown, read: (item: unknown) => T | null): T[] | null {
  if (!Array.isArray(value)) return null;
  const items: T[] = [];
  for (const item of value) {
    const parsed = read(item);
    if (parsed === null) return null;
    items.push(parsed);
  }
  return items;
}

export function readPrincipal(value: unknown): Principal | null {
  return isRecord(value) && isString(value.name) && isString(value.role)
    ? { name: value.name, role: value.role }
    : null;
}

function readNotify(value: unknown): JobNotify | null {
  return isRecord(value) && isStringList(value.failure) && isStringList(value.success)
    ? { failure: value.failure, success: value.success }
    : null;
}

export function readJob(value: unknown): Job | null {
  if (!isRecord(value)) return null;
  const v = value;
  const notify = readNotify(v.notify);
  if (
    !isString(v.name) ||
    !isString(v.command) ||
    !isString(v.cronExpr) ||
    !isString(v.timezone) ||
    typeof v.enabled !== 'boolean' ||
    !isCount(v.timeoutSec) ||
    (v.concurrency !== 'forbid' && v.concurrency !== 'allow') ||
    !isStringMap(v.labels) ||
    !isString(v.description) ||
    !isCount(v.updatedAt) ||
    !isCount(v.retries) ||
    !isCount(v.retryDelaySec) ||
    notify === null
  ) {
    return null;
  }
  return {
    name: v.name,
    command: v.command,
    cronExpr: v.cronExpr,
    timezone: v.timezone,
    enabled: v.enabled,
    timeoutSec: v.timeoutSec,
    concurrency: v.concurrency,
    labels: v.labels,
    description: v.description,
    updatedAt: v.updatedAt,
    retries: v.retries,
    retryDelaySec: v.retryDelaySec,
    notify,
  };
}

function readLastRun(value: unknown): LastRunView | null {
  if (!isRecord(value)) return null;
  const { runId, status, planTime, startTime, endTime } = value;
  return isString(runId) &&
    isString(status) &&
    isCount(planTime) &&
    isCount(startTime) &&
    isCount(endTime)
    ? { runId, status, planTime, startTime, endTime }
    : null;
}

export function readJobRow(value: unknown): JobRow | null {
  if (!isRecord(value) || !isString(value.revision)) return null;
  const job = readJob(value.job);
  if (!job) return null;
  if (value.lastRun === null || value.lastRun === undefined) {
    return { job, revision: value.revision, lastRun: null };
  }
  const lastRun = readLastRun(value.lastRun);
  return lastRun ? { job, revision: value.revision, lastRun } : null;
}

export function readJobList(value: unknown): JobRow[] | null {
  return isRecord(value) ? listOf(value.jobs, readJobRow) : null;
}

function readSkip(value: unknown): SkipView | null {
  if (!isRecord(value)) return null;
  const { count, firstMissed, lastMissed, reason } = value;
  return isCount(count) && isCount(firstMissed) && isCount(lastMissed) && isString(reason)
    ? { count, firstMissed, lastMissed, reason }
    : null;
}

export function readRun(value: unknown): RunView | null {
  if (!isRecord(value)) return null;
  const v = value;
  const skip = readSkip(v.skip);
  if (
    !isString(v.runId) ||
    !isString(v.jobName) ||
    !isString(v.command) ||
    !isString(v.err) ||
    !isString(v.output) ||
    typeof v.outputTruncated !== 'boolean' ||
    !isCount(v.planTime) ||
    !isCount(v.scheduleTime) ||
    !isCount(v.startTime) ||
    !isCount(v.endTime) ||
    !isString(v.agentId) ||
    !isString(v.host) ||
    !isString(v.status) ||
    !(v.exitCode === null || isInteger(v.exitCode)) ||
    !(v.signal === null || isString(v.signal))
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
    outputClipped: v.outputClipped === true,
    planTime: v.planTime,
    scheduleTime: v.scheduleTime,
    startTime: v.startTime,
    endTime: v.endTime,
    agentId: v.agentId,
    host: v.host,
    status: v.status,
    exitCode: v.exitCode,
    signal: v.signal,
    ...(isCount(v.attempt) ? { attempt: v.attempt } : {}),
    ...(isString(v.trigger) ? { trigger: v.trigger } : {}),
    ...(isString(v.triggeredBy) ? { triggeredBy: v.triggeredBy } : {}),
    ...(skip ? { skip } : {}),
  };
}

/** `GET /v1/runs/:runId`: one run with its whole output. */
export function readRunResponse(value: unknown): RunView | null {
  return isRecord(value) ? readRun(value.run) : null;
}

export function readRunPage(value: unknown): RunPageView | null {
  if (!isRecord(value)) return null;
  const runs = listOf(value.runs, readRun);
  const { nextCursor } = value;
  return runs && (nextCursor === null || isString(nextCursor)) ? { runs, nextCursor } : null;
}

function readRunningEntry(value: unknown): RunningEntry | null {
  if (!isRecord(value)) return null;
  const v = value;
  return isString(v.runId) &&
    isString(v.jobName) &&
    isString(v.agentId) &&
    isString(v.host) &&
    isCount(v.pid) &&
    isCount(v.planTime) &&
    isCount(v.startTime) &&
    isString(v.command)
    ? {
        runId: v.runId,
        jobName: v.jobName,
        agentId: v.agentId,
        host: v.host,
        pid: v.pid,
        planTime: v.planTime,
        startTime: v.startTime,
        command: v.command,
      }
    : null;
}

export function readRunning(value: unknown): RunningEntry[] | null {
  return isRecord(value) ? listOf(value.running, readRunningEntry) : null;
}

function readWorker(value: unknown): WorkerView | null {
  if (!isRecord(value)) return null;
  const v = value;
  const health = v.health === null ? null : readAgentHealth(v.health);
  return isString(v.agentId) &&
    isString(v.host) &&
    (v.ip === null || isString(v.ip)) &&
    (v.pid === null || isCount(v.pid)) &&
    isString(v.version) &&
    isStringMap(v.labels) &&
    isCount(v.startedAt) &&
    typeof v.registered === 'boolean' &&
    (v.health === null || health !== null)
    ? {
        agentId: v.agentId,
        host: v.host,
        ip: v.ip,
        pid: v.pid,
        version: v.version,
        labels: v.labels,
        startedAt: v.startedAt,
        registered: v.registered,
        health,
      }
    : null;
}

export function readWorkers(value: unknown): WorkerView[] | null {
  return isRecord(value) ? listOf(value.workers, readWorker) : null;
}

/** The next fire times of a schedule preview, as ISO instants. */
export function readCronNext(value: unknown): string[] | null {
  return isRecord(value) && isStringList(value.next) ? value.next : null;
}

const SESSION_STATES = ['starting', 'live', 'lost', 'stopped'] as const;
const AGENT_STATUSES = ['online', 'stale', 'offline'] as const;

function oneOf<T extends string>(options: readonly T[], value: unknown): value is T {
  return (options as readonly unknown[]).includes(value);
}

function readHeartbeat(value: unknown): Heartbeat | null {
  if (!isRecord(value)) return null;
  const v = value;
  const running = listOf(v.running, (item) =>
    isRecord(item) &&
    isString(item.runId) &&
    isString(item.jobName) &&
    isCount(item.planTime) &&
    isCount(item.startTime)
      ? {
          runId: item.runId,
          jobName: item.jobName,
          planTime: item.planTime,
          startTime: item.startTime,
        }
      : null,
  );
  const load = v.load;
  const executor = v.executor === undefined ? undefined : readExecutor(v.executor);
  if (
    !isCount(v.at) ||
    running === null ||
    executor === null ||
    !Array.isArray(load) ||
    load.length !== 3 ||
    !load.every((x) => typeof x === 'number') ||
    !isCount(v.rssBytes) ||
    !isCount(v.logBacklog) ||
    !isCount(v.spillBytes) ||
    !(v.spillError === null || isString(v.spillError)) ||
    !oneOf(SESSION_STATES, v.session) ||
    !isCount(v.jobsScheduled)
  ) {
    return null;
  }
  return {
    at: v.at,
    running,
    load: [load[0] as number, load[1] as number, load[2] as number],
    rssBytes: v.rssBytes,
    logBacklog: v.logBacklog,
    spillBytes: v.spillBytes,
    spillError: v.spillError,
    session: v.session,
    jobsScheduled: v.jobsScheduled,
    ...(executor ? { executor } : {}),
  };
}

function readExecutor(v: unknown): ExecutorHealth | null {
  if (
    !isRecord(v) ||
    (v.kind !== 'launcher' && v.kind !== 'node') ||
    !(v.version === null || isString(v.version)) ||
    !(v.fallbackReason === null || isString(v.fallbackReason))
  )
    return null;
  return { kind: v.kind, version: v.version, fallbackReason: v.fallbackReason };
}

function readAgentHealth(value: unknown): AgentHealthView | null {
  if (!isRecord(value)) return null;
  const v = value;
  const heartbeat = v.heartbeat === null ? null : readHeartbeat(v.heartbeat);
  if (
    !isString(v.agentId) ||
    !isString(v.host) ||
    !isString(v.version) ||
    !isStringMap(v.labels) ||
    !isCount(v.startedAt) ||
    !oneOf(AGENT_STATUSES, v.status) ||
    !isCount(v.connectedAt) ||
    !isCount(v.lastSeenAt) ||
    (v.heartbeat !== null && heartbeat === null)
  ) {
    return null;
  }
  return {
    agentId: v.agentId,
    host: v.host,
    version: v.version,
    labels: v.labels,
    startedAt: v.startedAt,
    status: v.status,
    connectedAt: v.connectedAt,
    lastSeenAt: v.lastSeenAt,
    heartbeat,
  };
}

/** One frame of the health stream, from its JSON text; null for anything else. */
export function readViewerFrame(text: string): ViewerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  if (value.type === 'snapshot') {
    const agents = listOf(value.agents, readAgentHealth);
    return agents ? { type: 'snapshot', agents } : null;
  }
  if (value.type === 'agent') {
    const agent = readAgentHealth(value.agent);
    return agent ? { type: 'agent', agent } : null;
  }
  return null;
}

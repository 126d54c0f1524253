/**
 * Values stored in etcd next to jobs: agent registrations, runs in flight, kill requests.
 * Each has a reader that validates, because any process with etcd access can write these keys.
 */
import { isValidName, isValidRunId } from './names.ts';

export interface WorkerRegistration {
  readonly agentId: string;
  readonly host: string;
  readonly ip: string;
  readonly pid: number;
  readonly version: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly startedAt: number;
}

export interface RunningEntry {
  readonly runId: string;
  readonly jobName: string;
  readonly agentId: string;
  readonly host: string;
  /** 0 until the process has started. */
  readonly pid: number;
  /** The tick this run serves (epoch ms). */
  readonly planTime: number;
  readonly startTime: number;
  readonly command: string;
}

export interface KillRequest {
  /** Epoch ms when the kill was asked for; runs that started later are left alone. */
  readonly requestedAt: number;
  /** Kill one run only; all runs of the job when absent. */
  readonly runId?: string;
  readonly requestedBy?: string;
}

function parseObject(json: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isLabels(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString)
  );
}

export function readWorkerRegistration(json: string): WorkerRegistration | null {
  return toWorkerRegistration(parseObject(json));
}

/** Validates a registration that is already parsed (e.g. one that crossed the relay). */
export function toWorkerRegistration(value: unknown): WorkerRegistration | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  if (
    !isValidName(o.agentId) ||
    !isString(o.host) ||
    !isString(o.ip) ||
    !isCount(o.pid) ||
    !isString(o.version) ||
    !isLabels(o.labels) ||
    !isCount(o.startedAt)
  ) {
    return null;
  }
  return {
    agentId: o.agentId,
    host: o.host,
    ip: o.ip,
    pid: o.pid,
    version: o.version,
    labels: o.labels,
    startedAt: o.startedAt,
  };
}

export function readRunningEntry(json: string): RunningEntry | null {
  return toRunningEntry(parseObject(json));
}

/** Validates a running entry that is already parsed (e.g. one that crossed the relay). */
export function toRunningEntry(value: unknown): RunningEntry | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  if (
    !isValidRunId(o.runId) ||
    !isValidName(o.jobName) ||
    !isValidName(o.agentId) ||
    !isString(o.host) ||
    !isCount(o.pid) ||
    !isCount(o.planTime) ||
    !isCount(o.startTime) ||
    !isString(o.command)
  ) {
    return null;
  }
  return {
    runId: o.runId,
    jobName: o.jobName,
    agentId: o.agentId,
    host: o.host,
    pid: o.pid,
    planTime: o.planTime,
    startTime: o.startTime,
    command: o.command,
  };
}

export function readKillRequest(json: string): KillRequest | null {
  const o = parseObject(json);
  if (!o || !isCount(o.requestedAt)) return null;
  if (o.runId !== undefined && !isValidRunId(o.runId)) return null;
  return {
    requestedAt: o.requestedAt,
    ...(o.runId !== undefined ? { runId: o.runId } : {}),
    ...(isString(o.requestedBy) ? { requestedBy: o.requestedBy } : {}),
  };
}

/** A run-now request at `manual/<job>`: the runId is chosen by whoever asks, so it can answer. */
export interface ManualTrigger {
  readonly runId: string;
  readonly requestedAt: number;
  readonly requestedBy: string;
}

export function toManualTrigger(value: unknown): ManualTrigger | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (
    !isValidRunId(v.runId) ||
    !isCount(v.requestedAt) ||
    typeof v.requestedBy !== 'string' ||
    v.requestedBy.length > 128
  ) {
    return null;
  }
  return { runId: v.runId, requestedAt: v.requestedAt, requestedBy: v.requestedBy };
}

export function readManualTrigger(json: string): ManualTrigger | null {
  try {
    return toManualTrigger(JSON.parse(json));
  } catch {
    return null;
  }
}

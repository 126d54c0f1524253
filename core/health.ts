/**
 * The live-health protocol between agents, the control plane and viewers. Health only: no job
 * ever depends on it. Every frame is JSON and is validated on arrival.
 *
 *   agent  → control plane  (/v1/agents/connect, agent token)
 *     hello      once, first: who the agent is
 *     heartbeat  every HEARTBEAT_INTERVAL_MS: what it runs and how it is doing
 *     bye        on a clean shutdown
 *   control plane → viewer  (/v1/health/stream, viewer token)
 *     snapshot   once, first: every agent known
 *     agent      each change of one agent
 *
 * An agent silent for STALE_AFTER_MS is `stale`; a closed session is `offline`.
 */
import { isValidName, isValidRunId } from './names.ts';

export const HEARTBEAT_INTERVAL_MS = 2_000;
/** Three missed heartbeats. */
export const STALE_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS;
/** Offline agents are forgotten by the hub after this long. */
export const OFFLINE_RETENTION_MS = 10 * 60_000;
export const MAX_FRAME_BYTES = 64 * 1024;

export type SessionHealth = 'starting' | 'live' | 'lost' | 'stopped';
export type AgentStatus = 'online' | 'stale' | 'offline';

export interface HelloFrame {
  readonly type: 'hello';
  readonly agentId: string;
  readonly host: string;
  readonly version: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startedAt: number;
}

export interface RunningRun {
  readonly runId: string;
  readonly jobName: string;
  readonly planTime: number;
  readonly startTime: number;
}

/** How the agent starts runs; `fallbackReason` says why it uses Node although it prefers the launcher. */
export interface ExecutorHealth {
  readonly kind: 'launcher' | 'node';
  readonly version: string | null;
  readonly fallbackReason: string | null;
}

export interface Heartbeat {
  readonly at: number;
  readonly running: readonly RunningRun[];
  /** 1, 5 and 15 minute load averages. */
  readonly load: readonly [number, number, number];
  readonly rssBytes: number;
  readonly logBacklog: number;
  readonly spillBytes: number;
  /** Why the spill journal cannot be written, or null. */
  readonly spillError: string | null;
  readonly session: SessionHealth;
  readonly jobsScheduled: number;
  /** Absent from agents older than the launcher. */
  readonly executor?: ExecutorHealth;
}

export interface HeartbeatFrame extends Heartbeat {
  readonly type: 'heartbeat';
}

export interface ByeFrame {
  readonly type: 'bye';
  readonly reason: string;
}

export type AgentFrame = HelloFrame | HeartbeatFrame | ByeFrame;

export interface AgentHealthView {
  readonly agentId: string;
  readonly host: string;
  readonly version: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startedAt: number;
  readonly status: AgentStatus;
  readonly connectedAt: number;
  readonly lastSeenAt: number;
  readonly heartbeat: Heartbeat | null;
}

export type ViewerFrame =
  | { readonly type: 'snapshot'; readonly agents: readonly AgentHealthView[] }
  | { readonly type: 'agent'; readonly agent: AgentHealthView };

type Shape = Record<string, unknown>;
const isShape = (v: unknown): v is Shape =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const isLabels = (v: unknown): v is Record<string, string> =>
  isShape(v) && Object.keys(v).length <= 32 && Object.values(v).every((x) => isText(x, 63));
const SESSION_STATES: readonly string[] = ['starting', 'live', 'lost', 'stopped'];

function readExecutor(v: unknown): ExecutorHealth | null {
  if (
    !isShape(v) ||
    (v.kind !== 'launcher' && v.kind !== 'node') ||
    !(v.version === null || isText(v.version, 64)) ||
    !(v.fallbackReason === null || isText(v.fallbackReason, 1024))
  )
    return null;
  return { kind: v.kind, version: v.version, fallbackReason: v.fallbackReason };
}

function readRunning(v: unknown): RunningRun[] | null {
  if (!Array.isArray(v) || v.length > 10_000) return null;
  const runs: RunningRun[] = [];
  for (const item of v) {
    if (
      !isShape(item) ||
      !isValidRunId(item.runId) ||
      !isValidName(item.jobName) ||
      !isCount(item.planTime) ||
      !isCount(item.startTime)
    ) {
      return null;
    }
    runs.push({
      runId: item.runId,
      jobName: item.jobName,
      planTime: item.planTime,
      startTime: item.startTime,
    });
  }
  return runs;
}

/** Parses one agent frame; null for anything that is not exactly a valid frame. */
export function parseAgentFrame(text: string): AgentFrame | null {
  if (text.length > MAX_FRAME_BYTES) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isShape(v)) return null;
  switch (v.type) {
    case 'hello':
      if (
        !isValidName(v.agentId) ||
        !isText(v.host, 255) ||
        !isText(v.version, 64) ||
        !isLabels(v.labels) ||
        !isCount(v.startedAt)
      )
        return null;
      return {
        type: 'hello',
        agentId: v.agentId,
        host: v.host,
        version: v.version,
        labels: v.labels,
        startedAt: v.startedAt,
      };
    case 'heartbeat': {
      const running = readRunning(v.running);
      const executor = v.executor === undefined ? undefined : readExecutor(v.executor);
      const load = v.load;
      const validLoad =
        Array.isArray(load) &&
        load.length === 3 &&
        load.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);
      if (
        !isCount(v.at) ||
        running === null ||
        executor === null ||
        !validLoad ||
        !isCount(v.rssBytes) ||
        !isCount(v.logBacklog) ||
        !isCount(v.spillBytes) ||
        !(v.spillError === null || isText(v.spillError, 1024)) ||
        typeof v.session !== 'string' ||
        !SESSION_STATES.includes(v.session) ||
        !isCount(v.jobsScheduled)
      ) {
        return null;
      }
      return {
        type: 'heartbeat',
        at: v.at,
        running,
        load: [load[0] as number, load[1] as number, load[2] as number],
        rssBytes: v.rssBytes,
        logBacklog: v.logBacklog,
        spillBytes: v.spillBytes,
        spillError: v.spillError,
        session: v.session as SessionHealth,
        jobsScheduled: v.jobsScheduled,
        ...(executor ? { executor } : {}),
      };
    }
    case 'bye':
      return isText(v.reason, 256) ? { type: 'bye', reason: v.reason } : null;
    default:
      return null;
  }
}

/** The status an agent has at `nowMs`, from when it was last heard of. */
export function statusAt(
  view: Pick<AgentHealthView, 'status' | 'lastSeenAt'>,
  nowMs: number,
): AgentStatus {
  if (view.status === 'offline') return 'offline';
  return nowMs - view.lastSeenAt > STALE_AFTER_MS ? 'stale' : 'online';
}

/**
 * The control plane's ports: everything the HTTP app needs from the outside world. Adapters are
 * "direct" (etcd3 + mongodb, Node only) or "relay client" (signed fetch, runs anywhere); one
 * contract suite (test/contract) holds both to the same behaviour.
 */
import type { ManualTrigger } from '../core/coordination.ts';
import type { Context } from 'hono';
import type { HealthReport, Role, RunPage, RunCursor, VersionedJob } from '../core/api.ts';
import type { KillRequest, RunningEntry, WorkerRegistration } from '../core/coordination.ts';
import type { AgentHealthView } from '../core/health.ts';
import type { Job } from '../core/job.ts';
import type { LastRunSummary, RunRecord } from '../core/run-log.ts';

export interface PutJobOptions {
  /** Write only if the stored job's revision is still this one; else `precondition_failed`. */
  readonly ifMatch?: string;
}

export interface PutJobResult {
  readonly job: VersionedJob;
  /** False when an existing job was replaced. */
  readonly created: boolean;
}

/** Jobs and what runs now, in etcd. Queries answer null for absence; commands throw not_found. */
export interface JobStore {
  /** Every readable job, by name; stored values that fail validation are left out. */
  list(): Promise<VersionedJob[]>;
  get(name: string): Promise<VersionedJob | null>;
  put(job: Job, options?: PutJobOptions): Promise<PutJobResult>;
  /** Deletes the job and its tick record together; runs in flight are left alone. */
  delete(name: string): Promise<void>;
  /** Asks every agent to kill the job's runs, through a short-lived kill request. */
  kill(name: string, request: KillRequest): Promise<void>;
  /**
   * Asks the fleet for one extra run now and waits until an agent has claimed it. Throws
   * not_found, conflict (a `forbid` job's run is in flight, or a request is already waiting) or
   * unavailable (no agent claimed it in time; the request is withdrawn, never left behind).
   */
  runNow(name: string, trigger: ManualTrigger): Promise<void>;
  listRunning(): Promise<RunningEntry[]>;
}

export interface RunsOfJobOptions {
  readonly limit: number;
  /** Only runs older than this position; from a previous page's `nextCursor`. */
  readonly before?: RunCursor;
}

/** Run logs in MongoDB. */
export interface RunLogReader {
  /** Newest first by planTime, then startTime, then runId. */
  runsOfJob(name: string, options: RunsOfJobOptions): Promise<RunPage>;
  /** One run with its full output. */
  run(runId: string): Promise<RunRecord | null>;
  /** The last-run summaries of those of `names` that have one. */
  lastRuns(names: readonly string[]): Promise<LastRunSummary[]>;
}

export interface WorkerDirectory {
  list(): Promise<WorkerRegistration[]>;
}

export interface HealthProbe {
  /** Never throws: an unreachable dependency is a failed check. */
  check(): Promise<HealthReport>;
}

export interface TokenEntry {
  /** Who holds the token; recorded as `requestedBy` on kill requests. */
  readonly name: string;
  readonly role: Role;
  /** SHA-256 of the token, lower-case hex; the token itself is never kept. */
  readonly sha256Hex: string;
}

export interface AuthConfig {
  readonly tokens: readonly TokenEntry[];
}

/** The data ports, as both adapters provide them. */
export interface DataPorts {
  readonly jobs: JobStore;
  readonly runLogs: RunLogReader;
  readonly workers: WorkerDirectory;
  readonly health: HealthProbe;
}

/** The data ports with the clients behind them, as adapters build them for entry files. */
export interface DataAdapter extends DataPorts {
  close(): Promise<void>;
}

/**
 * Live agent health (core/health.ts): agents' WebSocket sessions in, viewers' streams out.
 * Adapters: in-process on Node (control-plane/health/in-process-hub.ts), a Durable Object on
 * Workers (control-plane/health/health-hub-object.ts). Both are called with an authenticated
 * WebSocket upgrade request and answer the upgrade themselves.
 */
export interface HealthHub {
  /** Takes an agent's health session: hello, heartbeats, bye. */
  connectAgent(c: Context): Promise<Response>;
  /** Takes a viewer's stream: a snapshot, then each change of an agent. */
  streamViewers(c: Context): Promise<Response>;
  /** Every agent the hub knows, online, stale or offline, by agentId. */
  list(): Promise<AgentHealthView[]>;
}

/** The architectures cronplane-launcher is built for (Go's names; scripts/build-launcher.sh). */
export const LAUNCHER_ARCHES = ['amd64', 'arm64'] as const;
export type LauncherArch = (typeof LAUNCHER_ARCHES)[number];

/** An agent bundle as scripts/build-agent.mjs writes it, with the launchers built beside it. */
export interface AgentArtifact {
  readonly version: string;
  /** SHA-256 of the bundle as recorded at build time, lower-case hex. */
  readonly sha256Hex: string;
  /**
   * SHA-256 of the launcher of the same version, by architecture, lower-case hex. An
   * architecture is absent when this server does not hold that launcher (bundles built before
   * the launcher shipped have none).
   */
  readonly launchers: Readonly<Partial<Record<LauncherArch, string>>>;
}

/** The installer script, the agent bundles and their launchers (Node: a folder on disk). */
export interface AgentArtifacts {
  /** The version new installs get; null when no bundle is built. */
  current(): Promise<AgentArtifact | null>;
  /** A version's digest; null when this server does not hold that version. */
  find(version: string): Promise<AgentArtifact | null>;
  /** A version's bundle; null when this server does not hold that version. */
  read(version: string): Promise<Uint8Array<ArrayBuffer> | null>;
  /** A version's launcher for one architecture; null when this server does not hold it. */
  readLauncher(version: string, arch: LauncherArch): Promise<Uint8Array<ArrayBuffer> | null>;
  /** install/install.sh as written, before the control plane's URL is filled in. */
  installScript(): Promise<string>;
}

/** Where a new agent finds etcd and MongoDB: what `GET /v1/agents/bootstrap` hands it. */
export interface AgentConnection {
  readonly etcdEndpoints: readonly string[];
  readonly mongoUrl: string;
  readonly database: string;
  readonly prefix: string;
}

/** Adding a host with install.sh (control-plane/routes/install.ts). */
export interface AgentInstall {
  readonly connection: AgentConnection;
  readonly artifacts: AgentArtifacts;
  /** The URL hosts reach this control plane at; default: each request's own origin. */
  readonly publicUrl?: string;
  /**
   * Where bundles and launchers are downloaded from, as `<base>/<version>/cronplane-agent.cjs`
   * and `<base>/<version>/linux-<arch>/cronplane-launcher`, instead of this server's
   * `/artifacts/agent` (on Workers, whose asset files are size-limited).
   */
  readonly artifactBaseUrl?: string;
}

export interface ControlPlanePorts extends DataPorts {
  readonly auth: AuthConfig;
  /** Absent: this control plane does not serve the installer. */
  readonly install?: AgentInstall;
  readonly healthHub: HealthHub;
}

/**
 * The control plane's ports: everything the HTTP app needs from the outside world. Adapters are
 * "direct" (etcd3 + mongodb, Node only) or "relay client" (signed fetch, runs anywhere); one
 * contract suite (test/contract) holds both to the same behaviour.
 */
import type { HealthReport, Role, RunPage, RunCursor, VersionedJob } from '../core/api.ts';
import type { KillRequest, RunningEntry, WorkerRegistration } from '../core/coordination.ts';
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

export interface ControlPlanePorts extends DataPorts {
  readonly auth: AuthConfig;
}

/**
 * The agent's view of the cluster: one list of the whole key prefix, then one watch from the
 * listed revision, dispatched by key kind. One watcher (not one per kind) keeps events of a
 * revision together, which is how a lost run is told from a finished one: when a session lease
 * expires, etcd deletes the agent's worker key and its running keys in the same revision.
 *
 * The etcd3 client resumes a broken watch from the last revision it saw. When that revision has
 * been compacted, etcd cancels the watcher (etcd3 surfaces it as an `error`, often with an empty
 * reason); the view then lists again, reports what changed, and watches from the new revision.
 */
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import {
  readKillRequest,
  readManualTrigger,
  readRunningEntry,
  readWorkerRegistration,
  type ManualTrigger,
} from '../core/coordination.ts';
import type { KillRequest, RunningEntry, WorkerRegistration } from '../core/coordination.ts';
import { readStoredJob, type Job } from '../core/job.ts';
import { decodeTick, type KeyLayout } from '../core/keys.ts';
import { backoffDelayMs } from '../core/backoff.ts';

export interface ClusterViewHandlers {
  /** A job was created, changed, or (job = null) deleted or became unreadable. */
  jobChanged(name: string, job: Job | null): void;
  killRequested(name: string, request: KillRequest): void;
  /** A run-now request appeared; `raw` is its stored value. */
  manualRequested(name: string, trigger: ManualTrigger, raw: string): void;
  /** A run's runner died: its running key and its worker key vanished in one revision. */
  runLost(entry: RunningEntry): void;
  workersChanged(): void;
  tickClaimed(name: string, tickMs: number): void;
  /** A `forbid` job's lock was taken (held) or released. */
  lockChanged(name: string, held: boolean): void;
  event(name: string, detail: Record<string, unknown>): void;
}

export interface ClusterView {
  readonly jobs: ReadonlyMap<string, Job>;
  readonly workers: ReadonlyMap<string, WorkerRegistration>;
  readonly running: ReadonlyMap<string, RunningEntry>;
  /** True while the run-now request `raw` for the job is still waiting for its claim. */
  hasManual(name: string, raw: string): boolean;
  /** The newest tick known to be claimed for a job, or 0. */
  lastClaimedTick(name: string): number;
  /** Resolves once the first list has been applied. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createClusterView(
  client: Etcd3,
  keys: KeyLayout,
  handlers: ClusterViewHandlers,
): ClusterView {
  const jobs = new Map<string, Job>();
  const workers = new Map<string, WorkerRegistration>();
  const running = new Map<string, RunningEntry>();
  const ticks = new Map<string, number>();
  const manuals = new Map<string, string>();
  const locks = new Set<string>();
  let watcher: Watcher | null = null;
  let stopped = false;
  let relistAttempt = 0;

  function applyJob(name: string, value: string | null): void {
    if (value === null) {
      if (jobs.delete(name)) handlers.jobChanged(name, null);
      ticks.delete(name);
      return;
    }
    const result = readStoredJob(value);
    if (!result.ok || result.job.name !== name) {
      handlers.event('view:invalidJob', {
        name,
        errors: result.ok ? 'name does not match key' : result.errors,
      });
      if (jobs.delete(name)) handlers.jobChanged(name, null);
      return;
    }
    jobs.set(name, result.job);
    handlers.jobChanged(name, result.job);
  }

  function applyKv(kv: IKeyValue, deleted: boolean): void {
    const key = kv.key.toString();
    const parsed = keys.parse(key);
    if (!parsed) return;
    const value = deleted ? null : kv.value.toString();
    switch (parsed.kind) {
      case 'jobs':
        applyJob(parsed.name, value);
        break;
      case 'killer': {
        const request = value === null ? null : readKillRequest(value);
        if (request) handlers.killRequested(parsed.name, request);
        break;
      }
      case 'manual': {
        const trigger = value === null ? null : readManualTrigger(value);
        if (value === null || !trigger) {
          manuals.delete(parsed.name);
          break;
        }
        manuals.set(parsed.name, value);
        handlers.manualRequested(parsed.name, trigger, value);
        break;
      }
      case 'workers': {
        const registration = value === null ? null : readWorkerRegistration(value);
        if (registration && registration.agentId === parsed.agentId)
          workers.set(parsed.agentId, registration);
        else workers.delete(parsed.agentId);
        handlers.workersChanged();
        break;
      }
      case 'running': {
        const entry = value === null ? null : readRunningEntry(value);
        if (entry) running.set(key, entry);
        else running.delete(key);
        break;
      }
      case 'lock':
        if (value === null) locks.delete(parsed.name);
        else locks.add(parsed.name);
        handlers.lockChanged(parsed.name, value !== null);
        break;
      case 'ticks': {
        const tick = value === null ? null : decodeTick(value);
        if (tick === null) ticks.delete(parsed.name);
        else if (tick > (ticks.get(parsed.name) ?? 0)) {
          ticks.set(parsed.name, tick);
          handlers.tickClaimed(parsed.name, tick);
        }
        break;
      }
      default:
        break;
    }
  }

  function applyWatchResponse(res: IWatchResponse): void {
    // Worker keys deleted per revision, to recognise lease expiry among this batch's deletes.
    const workerDeletes = new Set<string>();
    for (const event of res.events) {
      if (event.type !== 'Delete') continue;
      const parsed = keys.parse(event.kv.key.toString());
      if (parsed?.kind === 'workers')
        workerDeletes.add(`${event.kv.mod_revision}/${parsed.agentId}`);
    }
    for (const event of res.events) {
      const deleted = event.type === 'Delete';
      if (deleted) {
        const key = event.kv.key.toString();
        const entry = running.get(key);
        if (entry && workerDeletes.has(`${event.kv.mod_revision}/${entry.agentId}`)) {
          running.delete(key);
          handlers.runLost(entry);
          continue;
        }
      }
      applyKv(event.kv, deleted);
    }
  }

  async function listAndWatch(): Promise<void> {
    const listed = await client.getAll().prefix(keys.prefix).exec();
    const revision = listed.header.revision;
    const seenJobs = new Set<string>();
    const seenRunning = new Set<string>();
    const seenWorkers = new Set<string>();
    const seenLocks = new Set<string>();
    for (const kv of listed.kvs) {
      const key = kv.key.toString();
      const parsed = keys.parse(key);
      if (parsed?.kind === 'jobs') seenJobs.add(parsed.name);
      if (parsed?.kind === 'running') seenRunning.add(key);
      if (parsed?.kind === 'workers') seenWorkers.add(parsed.agentId);
      if (parsed?.kind === 'lock') seenLocks.add(parsed.name);
      // A kill request seen on (re)listing is stale history, not a new request.
      if (parsed?.kind !== 'killer') applyKv(kv, false);
    }
    for (const name of [...jobs.keys()]) if (!seenJobs.has(name)) applyJob(name, null);
    for (const key of [...running.keys()]) if (!seenRunning.has(key)) running.delete(key);
    for (const id of [...workers.keys()]) if (!seenWorkers.has(id)) workers.delete(id);
    for (const name of [...locks]) {
      if (seenLocks.has(name)) continue;
      locks.delete(name);
      handlers.lockChanged(name, false);
    }
    handlers.workersChanged();

    const next = await client
      .watch()
      .prefix(keys.prefix)
      .startRevision(String(BigInt(revision) + 1n))
      .create();
    if (stopped) {
      await next.cancel();
      return;
    }
    watcher = next;
    relistAttempt = 0;
    next.on('data', applyWatchResponse);
    next.on('disconnected', () => handlers.event('view:disconnected', {}));
    next.on('connected', () => handlers.event('view:connected', {}));
    next.on('error', (error) => {
      handlers.event('view:watchCanceled', { error: error.message });
      if (watcher !== next) return;
      watcher = null;
      void next.cancel().catch(() => undefined);
      relist();
    });
  }

  function relist(): void {
    if (stopped) return;
    listAndWatch().catch((error: unknown) => {
      const delayMs = backoffDelayMs(relistAttempt++, { initialDelayMs: 100, maxDelayMs: 2_000 });
      handlers.event('view:relistFailed', { error: String(error), retryInMs: delayMs });
      setTimeout(relist, delayMs).unref();
    });
  }

  return {
    jobs,
    workers,
    running,
    lastClaimedTick: (name) => ticks.get(name) ?? 0,
    hasManual: (name, raw) => manuals.get(name) === raw,
    async start() {
      for (let attempt = 0; ; attempt++) {
        try {
          await listAndWatch();
          return;
        } catch (error) {
          if (stopped) return;
          const delayMs = backoffDelayMs(attempt, { initialDelayMs: 100, maxDelayMs: 2_000 });
          handlers.event('view:listFailed', { error: String(error), retryInMs: delayMs });
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    },
    async stop() {
      stopped = true;
      const current = watcher;
      watcher = null;
      if (current) await current.cancel().catch(() => undefined);
    },
  };
}

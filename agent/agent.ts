/**
 * The agent: watches etcd, schedules every job itself, claims ticks, runs commands, kills on
 * request, and batch-writes run logs to MongoDB. It never needs the control plane to run jobs.
 *
 * States: starting → running → stopping → stopped.
 *   starting  session granted, registered, first list applied, log writer ready.
 *   running   scheduling and claiming.
 *   stopping  no new claims; runs get `shutdownGraceMs` to finish, then are killed; the log
 *             writer flushes; the lease is revoked.
 */
import { readFileSync } from 'node:fs';
import { hostname, loadavg, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { backoffDelayMs } from '../core/backoff.ts';
import { createKeyLayout } from '../core/keys.ts';
import type { Job } from '../core/job.ts';
import { labelsMatch } from '../core/job.ts';
import type { WorkerRegistration } from '../core/coordination.ts';
import type { AgentConfig } from './config.ts';
import { createClaims } from './claim.ts';
import { createClusterView } from './cluster-view.ts';
import { createDispatcher } from './dispatcher.ts';
import { createEtcdClient } from './etcd-client.ts';
import type { Heartbeat } from '../core/health.ts';
import { startHealthSession, type HealthSession } from './health-session.ts';
import type { EventSink } from './log.ts';
import { lostRunRecord } from './lost-runs.ts';
import { register } from './registry.ts';
import { startRetention } from './retention.ts';
import {
  createRunLogWriter,
  ensureRunLogIndexes,
  type RunLogWriterStats,
} from './run-log-writer.ts';
import { createAgentMetrics } from './agent-metrics.ts';
import { startMetricsServer } from './metrics-server.ts';
import { createNotifier } from './notifier.ts';
import { createLockHistory } from './lock-history.ts';
import { startLoopMonitor } from './loop-monitor.ts';
import { startExecutor, type ExecutorStatus, type SelectedExecutor } from './executor-selection.ts';
import { createRunner } from './runner.ts';
import { createScheduler } from './scheduler.ts';
import { createSession, type SessionState } from './session.ts';
import { openSpillJournal } from './spill-journal.ts';

export type AgentState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface AgentHealth {
  readonly agentId: string;
  readonly state: AgentState;
  readonly session: SessionState;
  readonly jobsScheduled: number;
  readonly runningRuns: number;
  readonly log: RunLogWriterStats;
  /** null until the agent has chosen its executor. */
  readonly executor: ExecutorStatus | null;
}

export interface Agent {
  readonly state: AgentState;
  /** Resolves once the agent is scheduling. */
  readonly ready: Promise<void>;
  /** Resolves when the agent has stopped. */
  readonly done: Promise<void>;
  health(): AgentHealth;
  stop(reason: string): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface AgentDeps {
  readonly version: string;
  readonly log: EventSink;
}

function primaryIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

export function createAgent(config: AgentConfig, deps: AgentDeps): Agent {
  const emit = deps.log;
  const now = (): number => Date.now() + config.clockOffsetMs;
  const keys = createKeyLayout(config.prefix);
  const host = hostname();
  const client = createEtcdClient({
    endpoints: config.etcdEndpoints,
    ...(config.etcdUsername !== undefined ? { username: config.etcdUsername } : {}),
    ...(config.etcdPassword !== undefined ? { password: config.etcdPassword } : {}),
    ...(config.etcdCaFile !== undefined ? { caFile: config.etcdCaFile } : {}),
    ...(config.etcdCertFile !== undefined ? { certFile: config.etcdCertFile } : {}),
    ...(config.etcdKeyFile !== undefined ? { keyFile: config.etcdKeyFile } : {}),
  });
  const mongo = new MongoClient(config.mongoUrl, {
    serverSelectionTimeoutMS: 5_000,
    appName: `cronplane-agent/${config.agentId}`,
  });
  const db = mongo.db(config.database);
  const journal = openSpillJournal(join(config.stateDir, 'spill'));
  const metrics = createAgentMetrics();
  const notifier = createNotifier({
    secret: config.webhookSecret,
    defaultFailureUrls: config.notifyFailureUrls,
    ...((config.consoleUrl ?? config.controlPlaneUrl) !== undefined
      ? { consoleUrl: config.consoleUrl ?? config.controlPlaneUrl }
      : {}),
    onEvent: emit,
    onDelivery: (outcome) => metrics.webhooks.inc({ outcome }),
  });
  const writer = createRunLogWriter(db, journal, {
    observeCallSeconds: (op, seconds) => metrics.mongoCall.observe(seconds, { op }),
    batchSize: config.logBatchSize,
    flushIntervalMs: config.logFlushIntervalMs,
    maxBufferedRecords: config.logMaxBufferedRecords,
    onEvent: emit,
  });
  const session = createSession(client, { ttlSeconds: config.sessionTtlSeconds, onEvent: emit });
  const claims = createClaims(client, keys, session);
  // Chosen while starting, before the cluster view can start a run.
  let executor: SelectedExecutor | null = null;
  const runner = createRunner(claims, writer, {
    executor: {
      execute(spec) {
        if (!executor) throw new Error('a run started before the agent chose its executor');
        return executor.execute(spec);
      },
    },
    agentId: config.agentId,
    host,
    shell: config.shell,
    maxConcurrentRuns: config.maxConcurrentRuns,
    maxOutputBytes: config.maxOutputBytes,
    killGraceMs: config.killGraceMs,
    now,
    notifier,
    metrics,
    onEvent: emit,
  });
  const registration = (): WorkerRegistration => ({
    agentId: config.agentId,
    host,
    ip: primaryIp(),
    pid: process.pid,
    version: deps.version,
    labels: config.labels,
    startedAt: startedAt,
  });
  const startedAt = Date.now();
  let state: AgentState = 'starting';

  // Declared before the view so the view's handlers can reach them once it starts.
  let dispatcher: ReturnType<typeof createDispatcher> | null = null;
  const lockHistory = createLockHistory(now);
  const scheduler = createScheduler({
    now,
    leadMs: config.claimLeadMs,
    fire: (job, tickMs) => dispatcher?.fire(job, tickMs),
    onEvent: emit,
  });
  const wanted = (job: Job | null): Job | null =>
    job && job.enabled && labelsMatch(job.labels, config.labels) ? job : null;
  const view = createClusterView(client, keys, {
    jobChanged: (name, job) => {
      if (!job) {
        lockHistory.forget(name);
        dispatcher?.forget(name);
      }
      scheduler.set(name, wanted(job));
      emit('scheduler:planned', { job: name, nextTick: scheduler.nextTick(name) });
    },
    killRequested: (name, request) => runner.kill(name, request),
    manualRequested: (name, trigger, raw) => dispatcher?.manual(name, trigger, raw),
    runLost: (entry) => {
      if (entry.agentId === config.agentId || state !== 'running') return;
      emit('run:lost', { job: entry.jobName, runId: entry.runId, agent: entry.agentId });
      writer.accept(lostRunRecord(entry, now(), config.agentId));
    },
    workersChanged: () => undefined,
    tickClaimed: () => undefined,
    lockChanged: (name, held) => lockHistory.changed(name, held),
    event: emit,
  });
  dispatcher = createDispatcher(view, session, claims, runner, writer, {
    agentId: config.agentId,
    host,
    metrics,
    labels: config.labels,
    claimGraceMs: config.claimGraceMs,
    misfireWindowMs: config.misfireWindowMs,
    lockHistory,
    now,
    onEvent: emit,
  });

  // The executor fences forbid runs by the session: extended by each keep-alive, ended at once
  // when the session is judged lost (etcd may already have handed their locks on).
  session.onExtended((validForMs) => executor?.leaseValidFor(validForMs));
  session.onChange((sessionState, generation) => {
    if (sessionState === 'lost') executor?.leaseValidFor(0);
    if (sessionState !== 'live' || state === 'stopping' || state === 'stopped') return;
    register(client, keys, session, registration()).catch((error: unknown) =>
      emit('agent:registerFailed', { error: String(error) }),
    );
    if (generation <= 1) return;
    // Runs that outlived the old session keep their lock and running key on the new lease; the
    // old lease may still expire under them (etcd restores leases for a TTL after an outage).
    for (const { job, entry } of runner.inFlight()) {
      claims
        .reattach(job, entry)
        .then((kept) => {
          emit(kept ? 'run:reattached' : 'run:lockLost', { job: job.name, runId: entry.runId });
          // Another run holds the lock now: this one may not go on beside it (guarantee 2).
          if (!kept)
            runner.kill(job.name, {
              requestedAt: now(),
              runId: entry.runId,
              requestedBy: 'lock lost',
            });
        })
        .catch((error: unknown) =>
          emit('run:reattachFailed', { job: job.name, runId: entry.runId, error: String(error) }),
        );
    }
  });

  const heartbeat = (): Heartbeat => {
    const stats = writer.stats();
    const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
    return {
      at: Date.now(),
      running: runner.active().map(({ runId, jobName, planTime, startTime }) => ({
        runId,
        jobName,
        planTime,
        startTime,
      })),
      load: [load1, load5, load15],
      rssBytes: process.memoryUsage.rss(),
      logBacklog: stats.backlog,
      spillBytes: stats.spillBytes,
      spillError: stats.spillError,
      session: session.state,
      jobsScheduled: scheduler.size,
      ...(executor ? { executor: executor.status() } : {}),
    };
  };

  let retention: { stop(): void } | null = null;
  let health: HealthSession | null = null;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  metrics.registry.gaugeFn(
    'cronplane_log_backlog_records',
    'Run records accepted and not yet written to MongoDB.',
    () => writer.stats().backlog,
  );
  metrics.registry.gaugeFn(
    'cronplane_log_spill_bytes',
    'Bytes in the spill journal.',
    () => writer.stats().spillBytes,
  );
  metrics.registry.gaugeFn(
    'cronplane_session_live',
    '1 while the etcd session is live (claims allowed).',
    () => (session.state === 'live' ? 1 : 0),
  );
  metrics.registry.gaugeFn(
    'cronplane_running_runs',
    'Runs in flight on this agent.',
    () => runner.activeCount,
  );
  metrics.registry.gaugeFn(
    'cronplane_executor_launcher',
    '1 while runs start through the launcher, 0 while the agent falls back to Node.',
    () => (executor?.kind === 'launcher' ? 1 : 0),
  );
  metrics.registry.gaugeFn(
    'cronplane_jobs_scheduled',
    'Jobs this agent schedules.',
    () => scheduler.size,
  );
  const loopMonitor = startLoopMonitor(metrics.registry, emit);
  const metricsServer =
    config.metricsPort > 0
      ? startMetricsServer(metrics.registry, config.metricsPort, config.metricsHost).then(
          (server) => {
            emit('metrics:listening', { host: config.metricsHost, port: config.metricsPort });
            return server;
          },
        )
      : null;

  /**
   * Connects to MongoDB and creates the run log's indexes, retrying until both succeed: the
   * unique indexes keep a replayed record from being stored twice, so a MongoDB that is down
   * when the agent starts delays them, never skips them. The connection is made here, not left
   * to the driver's first operation: a failed automatic connect leaves the client on a closed
   * topology that no later operation reopens (mongodb 7.8), and only connect() replaces it.
   */
  async function ensureStore(): Promise<void> {
    for (let attempt = 0; state !== 'stopping' && state !== 'stopped'; attempt++) {
      try {
        await mongo.connect();
        await ensureRunLogIndexes(db);
        if (attempt > 0) emit('log:indexesCreated', { afterAttempts: attempt });
        return;
      } catch (error) {
        const retryInMs = backoffDelayMs(attempt, { initialDelayMs: 500, maxDelayMs: 30_000 });
        emit('log:indexesFailed', { error: String(error), retryInMs });
        await new Promise((resolve) => setTimeout(resolve, retryInMs).unref());
      }
    }
  }

  const ready = (async () => {
    await metricsServer;
    executor = await startExecutor({
      preference: config.executor,
      ...(config.launcherPath !== undefined ? { launcherPath: config.launcherPath } : {}),
      now,
      onEvent: emit,
    });
    void ensureStore();
    await session.whenLive();
    executor.leaseValidFor(session.validForMs());
    await register(client, keys, session, registration());
    await view.start();
    // Runs left in etcd under our id are a previous incarnation's: it died mid-run and we came
    // back before its lease expired, so no other agent will see its worker key vanish with
    // them. Nobody else can record these runs; we do, once (the unique runId keeps it once).
    for (const entry of view.running.values()) {
      if (entry.agentId !== config.agentId) continue;
      emit('run:lost', {
        job: entry.jobName,
        runId: entry.runId,
        agent: entry.agentId,
        previousIncarnation: true,
      });
      writer.accept(lostRunRecord(entry, now(), config.agentId));
    }
    if (state !== 'starting') return;
    state = 'running';
    if (config.controlPlaneUrl !== undefined && config.agentToken !== undefined) {
      health = startHealthSession({
        controlPlaneUrl: config.controlPlaneUrl,
        agentToken: config.agentToken,
        ...(config.controlPlaneCaFile !== undefined
          ? { ca: readFileSync(config.controlPlaneCaFile, 'utf8') }
          : {}),
        hello: () => ({
          agentId: config.agentId,
          host,
          version: deps.version,
          labels: config.labels,
          startedAt,
        }),
        heartbeat,
        onEvent: emit,
      });
    }
    retention = startRetention(db, claims, {
      retentionDays: config.retentionDays,
      periodMs: 3_600_000,
      now,
      onEvent: emit,
    });
    emit('agent:ready', {
      jobs: scheduler.size,
      version: deps.version,
      executor: executor.kind,
      ...(executor.status().fallbackReason !== null
        ? { executorFallbackReason: executor.status().fallbackReason }
        : {}),
    });
  })();

  let stopping: Promise<void> | null = null;
  async function stop(reason: string): Promise<void> {
    if (state === 'stopped') return;
    if (stopping) return stopping;
    stopping = (async () => {
      state = 'stopping';
      emit('agent:stopping', { reason, runningRuns: runner.activeCount });
      scheduler.stop();
      // Claims already sent may still win; their runs join those the grace below waits for.
      await dispatcher?.stop();
      retention?.stop();
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace'>((resolve) => {
        graceTimer = setTimeout(() => resolve('grace'), config.shutdownGraceMs);
      });
      if (
        (await Promise.race([runner.idle().then(() => 'idle' as const), graceOver])) === 'grace'
      ) {
        runner.killAll();
        await runner.idle();
      }
      clearTimeout(graceTimer);
      await writer.stop(10_000);
      await Promise.race([
        notifier.idle(),
        new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
      ]);
      await health?.stop(reason);
      const server = await metricsServer?.catch(() => null);
      server?.close();
      await view.stop();
      await session.stop(reason);
      await executor?.close();
      loopMonitor.stop();
      client.close();
      await mongo.close().catch(() => undefined);
      state = 'stopped';
      emit('agent:stopped', { reason });
      resolveDone();
    })();
    return stopping;
  }

  return {
    get state() {
      return state;
    },
    ready,
    done,
    health: () => ({
      agentId: config.agentId,
      state,
      session: session.state,
      jobsScheduled: scheduler.size,
      runningRuns: runner.activeCount,
      log: writer.stats(),
      executor: executor?.status() ?? null,
    }),
    stop,
    [Symbol.asyncDispose]: () => stop('disposed'),
  };
}

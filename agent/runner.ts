/**
 * Runs claimed ticks: executes the command (and its retries), frees the claim's running key and
 * lock, and hands each attempt's record to the run-log writer. Keeps the table of runs in flight
 * for kills and shutdown.
 *
 * A claim covers every attempt at its tick: retries run on the same agent under the same running
 * key and lock, so a `forbid` job never overlaps even while it waits to retry, and the whole
 * claim still costs two etcd writes. Each attempt is its own record (`attempt` 1, 2, …, same
 * `planTime`); only the last attempt's outcome counts as the job's (webhooks, last run).
 */
import { randomUUID } from 'node:crypto';
import { backoffDelayMs } from '../core/backoff.ts';
import type { KillRequest, RunningEntry } from '../core/coordination.ts';
import type { Job } from '../core/job.ts';
import type { RunRecord, RunStatus, RunTrigger } from '../core/run-log.ts';
import type { AgentMetrics } from './agent-metrics.ts';
import type { Claims } from './claim.ts';
import type { Execution, ExecutionResult, Executor } from './executor.ts';
import type { Notifier } from './notifier.ts';
import type { RunLogWriter } from './run-log-writer.ts';

export const MAX_RETRY_DELAY_MS = 3_600_000;
const RELEASE_ATTEMPTS = 10;
/** How long a background child may hold a finished run's output open. */
const DRAIN_AFTER_EXIT_MS = 1_000;

export interface RunnerOptions {
  readonly agentId: string;
  readonly host: string;
  readonly shell: string;
  readonly maxConcurrentRuns: number;
  readonly maxOutputBytes: number;
  readonly killGraceMs: number;
  readonly now: () => number;
  readonly executor: Pick<Executor, 'execute'>;
  readonly notifier?: Notifier;
  readonly metrics?: AgentMetrics;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface RunContext {
  readonly scheduleTime: number;
  readonly trigger: RunTrigger;
  readonly triggeredBy: string | null;
}

interface ActiveRun {
  readonly job: Job;
  readonly entry: RunningEntry;
  execution: Execution | null;
  /** The current attempt's process, once it runs. */
  pid: number;
  /** Set by a kill: ends the current attempt and cancels any retry. */
  cancelled: boolean;
  wakeFromRetryDelay: (() => void) | null;
}

export interface Runner {
  readonly activeCount: number;
  /** Room for one more run, counting `reserved` runs about to start (claims in flight). */
  hasCapacity(reserved?: number): boolean;
  /** A fresh running entry for a claim; `runId` may be given (run-now requests choose it). */
  prepare(job: Job, tickMs: number, runId?: string): RunningEntry;
  /** Starts a claimed run; resolves when its last attempt has ended and been recorded. */
  start(job: Job, entry: RunningEntry, context: RunContext): Promise<void>;
  kill(jobName: string, request: KillRequest): number;
  /** Kills every run and cancels pending retries (shutdown past its grace). */
  killAll(): void;
  /** Resolves when no run is in flight. */
  idle(): Promise<void>;
  active(): RunningEntry[];
  /** Runs in flight with their jobs, for moving them onto a renewed session. */
  inFlight(): { job: Job; entry: RunningEntry }[];
}

function statusOf(result: ExecutionResult): RunStatus {
  switch (result.kind) {
    case 'killed':
    case 'fenced':
      return 'killed';
    case 'timeout':
      return 'timeout';
    case 'lost':
      return 'lost';
    default:
      return result.kind === 'exited' && result.exitCode === 0 ? 'succeeded' : 'failed';
  }
}

export function retryDelayMs(job: Job, failedAttempt: number): number {
  return backoffDelayMs(failedAttempt - 1, {
    initialDelayMs: job.retryDelaySec * 1000,
    maxDelayMs: MAX_RETRY_DELAY_MS,
  });
}

export function createRunner(claims: Claims, writer: RunLogWriter, options: RunnerOptions): Runner {
  const emit = options.onEvent ?? (() => undefined);
  const runs = new Map<string, ActiveRun>();
  let idleWaiters: (() => void)[] = [];

  function record(
    job: Job,
    entry: RunningEntry,
    runId: string,
    attempt: number,
    context: RunContext,
    result: ExecutionResult,
  ): RunRecord {
    return {
      runId,
      jobName: job.name,
      command: job.command,
      err: result.error,
      output: result.output,
      outputTruncated: result.outputTruncated,
      planTime: entry.planTime,
      scheduleTime: context.scheduleTime,
      startTime: result.startTime,
      endTime: result.endTime,
      agentId: options.agentId,
      host: options.host,
      status: statusOf(result),
      exitCode: result.exitCode,
      signal: result.signal,
      attempt,
      trigger: context.trigger,
      triggeredBy: context.triggeredBy,
      skip: null,
    };
  }

  async function runAttempts(run: ActiveRun, context: RunContext): Promise<void> {
    const { job, entry } = run;
    for (let attempt = 1; ; attempt++) {
      // Later attempts get their own run id, derived so the family reads together.
      const runId = attempt === 1 ? entry.runId : `${entry.runId}.${attempt}`;
      const execution = options.executor.execute({
        shell: options.shell,
        command: job.command,
        env: {
          CRONPLANE_JOB: job.name,
          CRONPLANE_RUN_ID: runId,
          CRONPLANE_TICK: new Date(entry.planTime).toISOString(),
          CRONPLANE_ATTEMPT: String(attempt),
        },
        maxOutputBytes: options.maxOutputBytes,
        timeoutMs: job.timeoutSec * 1000,
        killGraceMs: options.killGraceMs,
        drainAfterExitMs: DRAIN_AFTER_EXIT_MS,
        // A forbid job's lock lives on the session: the run may not outlive it.
        fenced: job.concurrency === 'forbid',
      });
      run.execution = execution;
      if (run.cancelled) execution.kill(0);
      const started = await execution.started;
      if (started) {
        run.pid = started.pid;
        const latenessMs = started.startTime - entry.planTime;
        if (attempt === 1) options.metrics?.fireLateness.observe(Math.max(0, latenessMs) / 1000);
        emit('run:started', {
          job: job.name,
          runId,
          pid: started.pid,
          planTime: entry.planTime,
          attempt,
          trigger: context.trigger,
          latenessMs,
        });
      }
      const result = await execution.done;
      run.execution = null;
      run.pid = 0;
      const outcome = record(job, entry, runId, attempt, context, result);
      writer.accept(outcome);
      options.metrics?.runs.inc({ job: job.name, status: outcome.status });
      emit('run:ended', {
        job: job.name,
        runId,
        status: outcome.status,
        exitCode: outcome.exitCode,
        attempt,
        durationMs: outcome.endTime - outcome.startTime,
      });

      const retry =
        (outcome.status === 'failed' || outcome.status === 'timeout') &&
        attempt <= job.retries &&
        !run.cancelled;
      if (!retry) {
        options.notifier?.notify(job, outcome);
        return;
      }
      const delayMs = retryDelayMs(job, attempt);
      emit('run:retrying', { job: job.name, runId, attempt: attempt + 1, inMs: delayMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        run.wakeFromRetryDelay = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      run.wakeFromRetryDelay = null;
      if (run.cancelled) {
        // A kill while waiting to retry ends the run; the failed attempt is its outcome.
        options.notifier?.notify(job, outcome);
        return;
      }
    }
  }

  /**
   * A lock left behind would block a `forbid` job for as long as this agent's session lives, so
   * a failed release (etcd restarting, the client's circuit breaker open) is retried for a while.
   * Past that, the keys still vanish with the session lease.
   */
  async function releaseWithRetry(job: Job, entry: RunningEntry): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await claims.release(job, entry);
        return;
      } catch (error) {
        if (attempt + 1 >= RELEASE_ATTEMPTS) {
          emit('run:releaseFailed', { job: job.name, runId: entry.runId, error: String(error) });
          return;
        }
        await new Promise((resolve) =>
          setTimeout(resolve, backoffDelayMs(attempt, { initialDelayMs: 200, maxDelayMs: 5_000 })),
        );
      }
    }
  }

  function cancel(run: ActiveRun, graceMs: number): void {
    run.cancelled = true;
    run.execution?.kill(graceMs);
    run.wakeFromRetryDelay?.();
  }

  return {
    get activeCount() {
      return runs.size;
    },
    hasCapacity(reserved = 0) {
      return runs.size + reserved < options.maxConcurrentRuns;
    },
    prepare(job, tickMs, runId = randomUUID()) {
      return {
        runId,
        jobName: job.name,
        agentId: options.agentId,
        host: options.host,
        pid: 0,
        planTime: tickMs,
        startTime: options.now(),
        command: job.command,
      };
    },
    async start(job, entry, context) {
      const run: ActiveRun = {
        job,
        entry,
        execution: null,
        pid: 0,
        cancelled: false,
        wakeFromRetryDelay: null,
      };
      runs.set(entry.runId, run);
      try {
        await runAttempts(run, context);
      } finally {
        await releaseWithRetry(job, entry);
        runs.delete(entry.runId);
        if (runs.size === 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      }
    },
    kill(jobName, request) {
      let killed = 0;
      for (const run of runs.values()) {
        if (run.job.name !== jobName) continue;
        if (request.runId !== undefined && request.runId !== run.entry.runId) continue;
        // A kill asked for before this run started is about an earlier run.
        if (run.entry.startTime > request.requestedAt + 1_000) continue;
        cancel(run, 0);
        killed++;
      }
      if (killed > 0) {
        options.metrics?.kills.inc({}, killed);
        emit('run:killRequested', { job: jobName, killed });
      }
      return killed;
    },
    killAll() {
      for (const run of runs.values()) cancel(run, options.killGraceMs);
    },
    idle() {
      if (runs.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    inFlight() {
      return [...runs.values()].map(({ job, entry }) => ({ job, entry }));
    },
    active() {
      return [...runs.values()].map((run) => ({ ...run.entry, pid: run.pid }));
    },
  };
}

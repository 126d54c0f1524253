/**
 * Runs claimed ticks: executes the command, frees the claim's running key and lock, and hands the
 * record to the run-log writer. Keeps the table of runs in flight for kills and shutdown.
 */
import { randomUUID } from 'node:crypto';
import type { KillRequest, RunningEntry } from '../core/coordination.ts';
import type { Job } from '../core/job.ts';
import type { RunRecord, RunStatus } from '../core/run-log.ts';
import type { Claims } from './claim.ts';
import { execute, type Execution, type ExecutionResult } from './executor.ts';
import type { RunLogWriter } from './run-log-writer.ts';

export interface RunnerOptions {
  readonly agentId: string;
  readonly host: string;
  readonly shell: string;
  readonly maxConcurrentRuns: number;
  readonly maxOutputBytes: number;
  readonly killGraceMs: number;
  readonly now: () => number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

interface ActiveRun {
  readonly job: Job;
  readonly entry: RunningEntry;
  readonly execution: Execution;
  readonly done: Promise<void>;
}

export interface Runner {
  readonly activeCount: number;
  hasCapacity(): boolean;
  /** A fresh running entry for a claim; pid is filled in once the process exists. */
  prepare(job: Job, tickMs: number): RunningEntry;
  /** Starts a claimed run; resolves when it has ended and its record was accepted. */
  start(job: Job, entry: RunningEntry, scheduleTime: number): Promise<void>;
  kill(jobName: string, request: KillRequest): number;
  /** Kills every run (shutdown past its grace). */
  killAll(): void;
  /** Resolves when no run is in flight. */
  idle(): Promise<void>;
  active(): RunningEntry[];
}

function statusOf(result: ExecutionResult): RunStatus {
  if (result.kind === 'killed') return 'killed';
  if (result.kind === 'timeout') return 'timeout';
  return result.kind === 'exited' && result.exitCode === 0 ? 'succeeded' : 'failed';
}

export function createRunner(claims: Claims, writer: RunLogWriter, options: RunnerOptions): Runner {
  const emit = options.onEvent ?? (() => undefined);
  const runs = new Map<string, ActiveRun>();
  let idleWaiters: (() => void)[] = [];

  return {
    get activeCount() {
      return runs.size;
    },
    hasCapacity() {
      return runs.size < options.maxConcurrentRuns;
    },
    prepare(job, tickMs) {
      return {
        runId: randomUUID(),
        jobName: job.name,
        agentId: options.agentId,
        host: options.host,
        pid: 0,
        planTime: tickMs,
        startTime: options.now(),
        command: job.command,
      };
    },
    start(job, entry, scheduleTime) {
      const execution = execute({
        shell: options.shell,
        command: job.command,
        env: {
          CRONPLANE_JOB: job.name,
          CRONPLANE_RUN_ID: entry.runId,
          CRONPLANE_TICK: new Date(entry.planTime).toISOString(),
        },
        maxOutputBytes: options.maxOutputBytes,
        timeoutMs: job.timeoutSec * 1000,
        killGraceMs: options.killGraceMs,
        now: options.now,
      });
      emit('run:started', {
        job: job.name,
        runId: entry.runId,
        pid: execution.pid,
        planTime: entry.planTime,
        latenessMs: options.now() - entry.planTime,
      });
      const done = execution.done.then(async (result) => {
        const record: RunRecord = {
          runId: entry.runId,
          jobName: job.name,
          command: job.command,
          err: result.error,
          output: result.output,
          outputTruncated: result.outputTruncated,
          planTime: entry.planTime,
          scheduleTime,
          startTime: result.startTime,
          endTime: result.endTime,
          agentId: options.agentId,
          host: options.host,
          status: statusOf(result),
          exitCode: result.exitCode,
          signal: result.signal,
        };
        // Record first: the log must not depend on etcd being reachable.
        writer.accept(record);
        try {
          await claims.release(job, entry);
        } catch (error) {
          // The keys live on the session lease and vanish with it if this never succeeds.
          emit('run:releaseFailed', { job: job.name, runId: entry.runId, error: String(error) });
        }
        emit('run:ended', {
          job: job.name,
          runId: entry.runId,
          status: record.status,
          exitCode: record.exitCode,
          durationMs: record.endTime - record.startTime,
        });
      });
      const active: ActiveRun = {
        job,
        entry: { ...entry, pid: execution.pid },
        execution,
        done: done.finally(() => {
          runs.delete(entry.runId);
          if (runs.size === 0) {
            const waiters = idleWaiters;
            idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        }),
      };
      runs.set(entry.runId, active);
      return active.done;
    },
    kill(jobName, request) {
      let killed = 0;
      for (const run of runs.values()) {
        if (run.job.name !== jobName) continue;
        if (request.runId !== undefined && request.runId !== run.entry.runId) continue;
        // A kill asked for before this run started is about an earlier run.
        if (run.entry.startTime > request.requestedAt + 1_000) continue;
        run.execution.kill('killed', 0);
        killed++;
      }
      if (killed > 0) emit('run:killRequested', { job: jobName, killed });
      return killed;
    },
    killAll() {
      for (const run of runs.values()) run.execution.kill('killed', options.killGraceMs);
    },
    idle() {
      if (runs.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    active() {
      return [...runs.values()].map((run) => run.entry);
    },
  };
}

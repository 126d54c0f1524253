/**
 * The shared shape of a scenario's workload: put jobs, let them settle, open the tick window,
 * inflict the fault, close the window once every job has run past it, delete the jobs, wait for
 * the logs, and keep the books.
 */
import type { RunRecord } from '../../../core/run-log.ts';
import { waitUntil } from '../../stack/index.ts';
import { keepBooks, type JobBooks, type TickWindow } from './ledger.ts';
import type { SeenEvent, World } from './world.ts';

export const QUICK = process.env.CHAOS_QUICK === '1';

export interface JobSpec extends Record<string, unknown> {
  readonly name: string;
  readonly command: string;
  readonly cronExpr: string;
  readonly concurrency?: 'forbid' | 'allow';
}

/**
 * A 1-second job whose output names its run, so a record can be matched to its process.
 * `allow` unless told otherwise (the product's default is `forbid`).
 */
export function everySecond(name: string, extra: Partial<JobSpec> = {}): JobSpec {
  return {
    name,
    command: 'echo "$CRONPLANE_RUN_ID"',
    cronExpr: '* * * * * *',
    concurrency: 'allow',
    ...extra,
  };
}

export interface Closed {
  readonly window: TickWindow;
  readonly records: RunRecord[];
  readonly events: SeenEvent[];
  readonly books: JobBooks[];
  /** Run ids started but never recorded once `logTimeoutMs` had passed. */
  readonly missing: string[];
  readonly logWaitMs: number;
}

/** First due tick of a window opened now: late enough that every agent has planned the job. */
export function openWindow(): number {
  return Math.ceil((Date.now() + 1_500) / 1000) * 1000;
}

/** Runs started for `job` with a tick of at least `tickMs`, from any agent process. */
export function startedSince(world: World, job: string, tickMs: number): SeenEvent[] {
  return world
    .events()
    .filter((e) => e.event === 'run:started' && e.job === job && Number(e.planTime) >= tickMs);
}

/** Waits until some agent starts a run of `job` for a tick at or after `tickMs`. */
export async function waitForRunSince(
  world: World,
  job: string,
  tickMs: number,
  timeoutMs: number,
): Promise<SeenEvent> {
  return waitUntil(() => startedSince(world, job, tickMs)[0], {
    timeoutMs,
    what: `a run of ${job} for a tick at or after ${new Date(tickMs).toISOString()}`,
    intervalMs: 50,
  });
}

/**
 * Closes the window at the last tick at least a second old, waits until each of `steadyJobs` has
 * run a later tick (the fleet is past the window), deletes every job, and waits for the logs.
 */
export async function closeWindow(
  world: World,
  options: {
    readonly fromMs: number;
    readonly jobs: readonly JobSpec[];
    readonly steadyJobs: readonly string[];
    readonly progressTimeoutMs?: number;
    readonly logTimeoutMs?: number;
  },
): Promise<Closed> {
  const toMs = Math.floor(Date.now() / 1000) * 1000 - 1000;
  const window: TickWindow = { fromMs: options.fromMs, toMs, periodMs: 1000 };
  await Promise.all(
    options.steadyJobs.map((job) =>
      waitForRunSince(world, job, toMs + 1000, options.progressTimeoutMs ?? 20_000),
    ),
  );
  for (const job of options.jobs) await world.deleteJob(job.name);
  const { missing, waitedMs } = await world.waitForLogs(options.logTimeoutMs ?? 20_000);
  const records = await world.allRuns();
  const events = world.events();
  const books = options.jobs.map((job) =>
    keepBooks(job.name, window, records, events, {
      // The product's default is forbid.
      forbid: (job.concurrency ?? 'forbid') === 'forbid',
    }),
  );
  return { window, records, events, books, missing, logWaitMs: waitedMs };
}

/** Events of one kind, as `agentId life: {detail}` lines for a report. */
export function describeEvents(events: readonly SeenEvent[], name: string, limit = 8): string[] {
  return events
    .filter((e) => e.event === name)
    .slice(-limit)
    .map((e) => {
      const { event: _event, agentId, life, t, agent: _agent, ...rest } = e;
      return `${agentId}#${life} ${String(t)} ${name} ${JSON.stringify(rest)}`;
    });
}

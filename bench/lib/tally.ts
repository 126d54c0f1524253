/**
 * What ran against what was due, for one load's window: the (job, tick) pairs recorded in
 * MongoDB and announced by the agents (`run:started`), counted into duplicates, missed ticks,
 * runs still on their way to MongoDB, and each tick's launches. No I/O.
 */
import type { AgentEvent, BenchAgent } from './agent.ts';
import type { BenchJob } from './jobs.ts';
import type { TickLaunches } from './load.ts';

/** A run-log record as the bench reads it (a projection). */
export interface LogDoc {
  readonly jobName: string;
  readonly planTime: number;
  readonly status: string;
  readonly agentId: string;
  readonly startTime: number;
  readonly attempt?: number;
  readonly skip?: { count: number; firstMissed: number; lastMissed: number } | null;
}

export interface TallyInput {
  /** The window's real records (not `skipped`); empty when the load verifies by events. */
  readonly docs: readonly LogDoc[];
  readonly agents: readonly BenchAgent[];
  readonly names: ReadonlySet<string>;
  readonly jobs: readonly BenchJob[];
  /** Each cron expression's ticks in the window. */
  readonly expected: ReadonlyMap<string, number[]>;
  readonly inWindowTick: (value: unknown) => boolean;
  readonly verify: 'records' | 'events';
}

export interface Tally {
  /** Records per `job@tick` (first attempts). */
  readonly seen: ReadonlyMap<string, number>;
  readonly lost: number;
  /** startTime − planTime of the recorded first attempts that were not lost. */
  readonly recordLateness: number[];
  /** Announced first attempts per `job@tick`. */
  readonly started: ReadonlyMap<string, number>;
  readonly runsByAgent: Record<string, number>;
  readonly missed: number;
  /** Announced but not yet recorded (only when verifying by records). */
  readonly unlogged: number;
  readonly duplicates: number;
  readonly launchesByTick: TickLaunches[];
}

export function tallyTicks(input: TallyInput): Tally {
  const { docs, agents, names, jobs, expected, inWindowTick, verify } = input;
  const seen = new Map<string, number>();
  let lost = 0;
  const recordLateness: number[] = [];
  for (const doc of docs) {
    if ((doc.attempt ?? 1) !== 1) continue;
    const key = `${doc.jobName}@${doc.planTime}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (doc.status === 'lost') lost++;
    else recordLateness.push(doc.startTime - doc.planTime);
  }
  const inRange = (e: AgentEvent, field: string): boolean => inWindowTick(e[field]);
  // Runs the agents announced: a record still in an agent's writer when the wait ends is
  // "unlogged", not missed; two announcements of one tick are a duplicate all the same.
  const started = new Map<string, number>();
  const runsByAgent: Record<string, number> = {};
  const byTick = new Map<number, { started: number; last: number }>();
  for (const agent of agents) {
    runsByAgent[agent.agentId] = 0;
    for (const e of agent.events) {
      if (e.event !== 'run:started' || e.attempt !== 1 || typeof e.job !== 'string') continue;
      if (!names.has(e.job) || !inRange(e, 'planTime')) continue;
      const key = `${e.job}@${String(e.planTime)}`;
      started.set(key, (started.get(key) ?? 0) + 1);
      runsByAgent[agent.agentId] = (runsByAgent[agent.agentId] ?? 0) + 1;
      const tick = byTick.get(Number(e.planTime)) ?? { started: 0, last: -Infinity };
      tick.started++;
      tick.last = Math.max(tick.last, Number(e.latenessMs));
      byTick.set(Number(e.planTime), tick);
    }
  }
  let missed = 0;
  let unlogged = 0;
  const expectedByTick = new Map<number, number>();
  for (const job of jobs) {
    for (const tick of expected.get(job.cronExpr) ?? []) {
      expectedByTick.set(tick, (expectedByTick.get(tick) ?? 0) + 1);
      const key = `${job.name}@${tick}`;
      if (seen.has(key)) continue;
      if (started.has(key)) {
        if (verify === 'records') unlogged++;
      } else missed++;
    }
  }
  const launchesByTick: TickLaunches[] = [...expectedByTick.entries()]
    .sort(([a], [b]) => a - b)
    .map(([tick, due]) => {
      const launches = byTick.get(tick);
      return {
        tick,
        expected: due,
        started: launches?.started ?? 0,
        lastLaunchMs: launches ? launches.last : NaN,
      };
    });
  const duplicates = Math.max(
    [...seen.values()].reduce((n, c) => n + Math.max(0, c - 1), 0),
    [...started.values()].reduce((n, c) => n + Math.max(0, c - 1), 0),
  );

  return {
    seen,
    lost,
    recordLateness,
    started,
    runsByAgent,
    missed,
    unlogged,
    duplicates,
    launchesByTick,
  };
}

/**
 * Figure 10 — burst drain: how long N ticks due at the same instant take to be launched, beside
 * N ÷ what this machine can launch (the reference launcher's runs/s: the floor). Two loads on 3
 * agents with the agent's default settings (64 concurrent runs each, not the fleet figures'
 * raised --max-concurrent-runs), every job `echo tick`:
 *
 *   - 200 jobs due every second (figure 1's load): per second of the window, tick → last
 *     run:started of that second; p50/p99/max over the seconds;
 *   - 10,000 jobs (--quick: 1,000) due once: tick → last run:started.
 *
 * Duplicate and missed ticks are counted as in every fleet load (MongoDB's records, waited for
 * a bounded time; a run announced whose record is not in yet counts as unlogged, not missed).
 */
import { AGENT_DEFAULTS } from '../../agent/config.ts';
import { LAUNCH_COMMAND, type BenchContext, type SteadyLoad } from '../lib/context.ts';
import { DEFAULT_AGENT_ARGS } from '../lib/fleet.ts';
import { padded } from '../lib/jobs.ts';
import type { ReferenceResult } from '../lib/launch-reference.ts';
import { resetLastRuns } from '../lib/bench-db.ts';
import { runFleetLoad, type LoadResult } from '../lib/load.ts';
import { cpuRow, integrityRow, loopDelayRow } from '../lib/load-rows.ts';
import { judge, type Row } from '../lib/report.ts';
import { distribution, fmt, fmtDistribution } from '../lib/stats.ts';

export const id = 10;
export const title = 'Burst drain';

/** Target: at most this many floors; the compass (where the design aims) is COMPASS. */
export const DRAIN_TARGET_FLOORS = 2;
export const DRAIN_COMPASS_FLOORS = 1.25;

async function burst(context: BenchContext, jobs: number): Promise<LoadResult> {
  // Due at one second, chosen so that loading the jobs ends just before it; deleted once every
  // tick's claim has settled, so the next minute's does not come.
  const leadMs = 4_000 + jobs;
  const second = new Date(Date.now() + leadMs).getUTCSeconds();
  context.log(`burst: ${jobs} jobs due at second ${second}, once, on 3 agents (default settings)`);
  return runFleetLoad(context.stack, await context.fleet(), {
    agents: 3,
    agentArgs: DEFAULT_AGENT_ARGS,
    jobs: Array.from({ length: jobs }, (_, i) => ({
      name: padded('drain-burst', i),
      cronExpr: `${second} * * * * *`,
      command: LAUNCH_COMMAND,
    })),
    warmupMs: 300,
    windowMs: 1_000,
    deleteJobs: 'after-claims',
    measureWrites: false,
    recordsTimeoutMs: context.quick ? 30_000 : 180_000,
    claimsPossibleForMs: AGENT_DEFAULTS.misfireWindowMs + 1_000,
    log: context.log,
  });
}

function floorNote(floorMs: number, reference: ReferenceResult | null, n: number): string {
  if (reference === null) return 'no reference launcher (see figure 9)';
  return (
    `floor ${n} ÷ ${fmt(reference.runsPerSecond)} runs/s (reference launcher) = ${fmt(floorMs)} ms; ` +
    `compass ${DRAIN_COMPASS_FLOORS}× = ${fmt(floorMs * DRAIN_COMPASS_FLOORS)} ms`
  );
}

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const reference = await context.launchReference().catch((error: unknown) => {
    context.log(`no reference launcher: ${String(error)}`);
    return null;
  });
  const floorOf = (n: number): number =>
    reference === null ? NaN : (n / reference.runsPerSecond) * 1000;
  const targetOf = (n: number): string =>
    reference === null
      ? `≤ ${DRAIN_TARGET_FLOORS}× floor`
      : `≤ ${DRAIN_TARGET_FLOORS}× floor (${fmt(floorOf(n) * DRAIN_TARGET_FLOORS)} ms)`;
  const verdictOf = (n: number, ms: number): Row['verdict'] =>
    reference === null ? 'n/a' : judge(ms <= floorOf(n) * DRAIN_TARGET_FLOORS);

  const shape: SteadyLoad = {
    name: 'drain',
    agents: 3,
    jobs: 200,
    everySeconds: 1,
    windowSeconds: context.quick ? 8 : 30,
    agentArgs: DEFAULT_AGENT_ARGS,
    command: LAUNCH_COMMAND,
  };
  await resetLastRuns(context.stack, await context.fleet());
  const steady = await context.steadyLoad(shape);
  const seconds = steady.launchesByTick;
  const complete = seconds.filter((s) => s.started === s.expected).length;
  const perSecond = distribution(seconds.map((s) => (s.started === 0 ? Infinity : s.lastLaunchMs)));
  const steadyLabel = `${shape.jobs} jobs/s, 3 agents, ${shape.windowSeconds} s`;

  const n = context.quick ? 1_000 : 10_000;
  await resetLastRuns(context.stack, await context.fleet());
  const big = await burst(context, n);
  const tick = big.launchesByTick[0];
  const drainMs = tick && tick.started > 0 ? tick.lastLaunchMs : NaN;
  const everyTick = tick !== undefined && tick.started === tick.expected;
  const bigLabel = `${n} jobs due at once, 3 agents`;

  const rows: Row[] = [
    {
      measure: `${steadyLabel}: per second, tick → last launch p50 / p99 / max`,
      value: fmtDistribution(perSecond),
      target: targetOf(shape.jobs),
      verdict: verdictOf(shape.jobs, perSecond.p99),
      note:
        `${floorNote(floorOf(shape.jobs), reference, shape.jobs)}; ${complete} of ${seconds.length} ` +
        `seconds had every run started (a second with none counts as ∞); launch lateness of the ` +
        `runs p50 / p99 ${fmt(steady.lateness.p50)} / ${fmt(steady.lateness.p99)} ms; default agent settings`,
    },
    integrityRow(steadyLabel, steady),
    cpuRow(steadyLabel, steady),
    loopDelayRow(steadyLabel, steady),
    {
      measure: `${bigLabel}: tick → last launch`,
      value:
        reference === null || !Number.isFinite(drainMs)
          ? `${fmt(drainMs)} ms`
          : `${fmt(drainMs)} ms (${fmt(drainMs / floorOf(n))}× floor)`,
      target: targetOf(n),
      verdict: everyTick ? verdictOf(n, drainMs) : 'not met',
      note:
        `${floorNote(floorOf(n), reference, n)}; ${tick?.started ?? 0} of ${n} ticks started` +
        `${everyTick ? '' : ' (the last launch of an incomplete burst is no drain time)'}; ` +
        `launch lateness p50 ${fmt(big.lateness.p50)} ms; default agent settings`,
    },
    integrityRow(bigLabel, big),
    cpuRow(bigLabel, big),
    loopDelayRow(bigLabel, big),
  ];
  return {
    rows,
    data: {
      reference,
      steady,
      steadyPerSecond: perSecond,
      burst: big,
      burstDrainMs: drainMs,
      floorsMs: { steady: floorOf(shape.jobs), burst: floorOf(n) },
    },
  };
}

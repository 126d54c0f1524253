/**
 * Figure 1 — fire lateness: process spawned − tick, by the agent's clock (`run:started`
 * latenessMs), p50/p99/max, with duplicate and missed ticks counted from MongoDB's run records.
 * Two loads on 3 agents: 200 jobs every second (the target's load), and a burst of thousands of
 * jobs due at the same second of every minute (10,000 over 2 minutes; --quick: 1,000, once).
 */
import { AGENT_DEFAULTS } from '../../agent/config.ts';
import type { BenchContext, SteadyLoad } from '../lib/context.ts';
import { padded } from '../lib/jobs.ts';
import { runFleetLoad, type LoadResult } from '../lib/load.ts';
import { cpuRow, integrityRow, loopDelayRow } from '../lib/load-rows.ts';
import { judge, type Row } from '../lib/report.ts';
import { fmt, fmtDistribution } from '../lib/stats.ts';

export const id = 1;
export const title = 'Fire lateness';

export const LATENESS_P99_TARGET_MS = 50;

async function burst(context: BenchContext): Promise<LoadResult> {
  const jobs = context.quick ? 1_000 : 10_000;
  const minutes = context.quick ? 1 : 2;
  // Due at one second of every minute, chosen so that loading them ends just before it.
  const leadMs = 4_000 + jobs;
  const second = new Date(Date.now() + leadMs).getUTCSeconds();
  context.log(
    `burst: ${jobs} jobs at second ${second} of every minute on 3 agents, ${minutes} tick(s)`,
  );
  return runFleetLoad(context.stack, await context.fleet(), {
    agents: 3,
    jobs: Array.from({ length: jobs }, (_, i) => ({
      name: padded('burst', i),
      cronExpr: `${second} * * * * *`,
    })),
    warmupMs: 300,
    windowMs: (minutes - 1) * 60_000 + 1_000,
    deleteJobs: 'after-records',
    measureWrites: false,
    recordsTimeoutMs: context.quick ? 30_000 : 300_000,
    // The jobs stay until their records are in: a tick can be claimed until the misfire window
    // has passed (60 s by default), though the wait ends once every tick is claimed or the
    // agents have all given up on theirs.
    claimsPossibleForMs: AGENT_DEFAULTS.misfireWindowMs + 1_000,
    log: context.log,
  });
}

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const shape: SteadyLoad = {
    name: 'lateness',
    agents: 3,
    jobs: 200,
    everySeconds: 1,
    windowSeconds: context.quick ? 8 : 60,
  };
  const steady = await context.steadyLoad(shape);
  const label = `${shape.jobs} jobs/s, 3 agents, ${shape.windowSeconds} s`;
  const big = await burst(context);
  const bigLabel = `${big.jobs} jobs/min, 3 agents, ${big.expectedRuns / big.jobs} tick(s)`;
  const rows: Row[] = [
    {
      measure: `${label}: p50 / p99 / max`,
      value: fmtDistribution(steady.lateness),
      target: `p99 ≤ ${LATENESS_P99_TARGET_MS} ms`,
      verdict: judge(steady.lateness.p99 <= LATENESS_P99_TARGET_MS),
      note: `${steady.lateness.count} runs; from records (startTime − planTime): ${fmtDistribution(steady.recordLateness)}; the machine was ${fmt(steady.machineBusyPercent)} % busy`,
    },
    integrityRow(label, steady),
    cpuRow(label, steady),
    loopDelayRow(label, steady),
    {
      measure: `${bigLabel}: p50 / p99 / max`,
      value: fmtDistribution(big.lateness),
      target: '—',
      verdict: 'info',
      note: `${big.lateness.count} runs; from records: ${fmtDistribution(big.recordLateness)}; the machine was ${fmt(big.machineBusyPercent)} % busy`,
    },
    integrityRow(bigLabel, big),
    cpuRow(bigLabel, big),
    loopDelayRow(bigLabel, big),
  ];
  return { rows, data: { steady, burst: big } };
}

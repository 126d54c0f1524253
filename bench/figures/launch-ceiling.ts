/**
 * Figure 9 — launch ceiling: the highest rate the fleet sustains, beside what this machine can
 * launch at all. First the reference launcher (bench/launch-reference: Go's os/exec of
 * `echo tick`, output captured, 32 in flight, no scheduling) runs 2,000 runs (--quick: 1,000);
 * then 3 agents with the agent's default settings run R jobs of `echo tick` every second (all
 * due at the same instant, as figure 1's load) for short steady windows, R searched from half
 * the reference rate: up by half while every step passes, halved while none has, then bisected.
 * A step passes with 0 duplicate and 0 missed ticks of its window, counted from the agents'
 * run:started events (MongoDB's records are not waited for: each step would wait for FerretDB's
 * backlog); a tick not claimed within 10 s of the window's end counts as missed. The search is
 * bounded in time (about 75 s, --quick; 270 s full). After each step the agents' writers get
 * 5 s (--quick: 2 s) to empty their journals into MongoDB; agents left with a backlog are
 * replaced by fresh ones, so that FerretDB does not spend the next step writing the last one's.
 */
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.ts';
import { jobsOf, LAUNCH_COMMAND } from '../lib/context.ts';
import { DEFAULT_AGENT_ARGS } from '../lib/fleet.ts';
import { resetLastRuns } from '../lib/bench-db.ts';
import { runFleetLoad, type LoadResult } from '../lib/load.ts';
import { cpuRow, loopDelayRow } from '../lib/load-rows.ts';
import { dirBytes } from '../lib/proc.ts';
import { judge, type Row } from '../lib/report.ts';
import { fmt } from '../lib/stats.ts';

export const id = 9;
export const title = 'Launch ceiling';

export const CEILING_RATIO_TARGET = 0.5;
export const CEILING_RATIO_COMPASS = 0.8;

interface Step {
  readonly rate: number;
  /** Bytes left in the agents' spill journals after the step (then the agents are replaced). */
  readonly backlogBytes: number;
  readonly passed: boolean;
  readonly durationS: number;
  readonly load: LoadResult;
}

/** The next rate to try, or null when the search has converged or run out of rates. */
function nextRate(steps: readonly Step[], maxRate: number): number | null {
  const good = Math.max(0, ...steps.filter((s) => s.passed).map((s) => s.rate));
  const bad = Math.min(Infinity, ...steps.filter((s) => !s.passed).map((s) => s.rate));
  let next: number;
  if (bad === Infinity) next = Math.min(maxRate, Math.round(good * 1.5));
  else if (good === 0) next = Math.round(bad / 2);
  else {
    if (bad - good <= Math.max(3, good * 0.1)) return null;
    next = Math.round((good + bad) / 2);
  }
  if (next < 3 || steps.some((s) => s.rate === next)) return null;
  return next;
}

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const reference = await context.launchReference();
  const fleet = await context.fleet();
  await fleet.resize(3, DEFAULT_AGENT_ARGS);
  await resetLastRuns(context.stack, fleet);
  const windowSeconds = context.quick ? 3 : 6;
  const budgetMs = context.quick ? 75_000 : 270_000;
  const searchStarted = performance.now();
  const maxRate = Math.ceil(reference.runsPerSecond * 1.5);
  const steps: Step[] = [];
  let rate: number | null = Math.max(3, Math.round(reference.runsPerSecond * 0.5));
  while (rate !== null) {
    // The next step takes about as long as the last one did; do not start one past the budget.
    const estimateMs = (steps.at(-1)?.durationS ?? windowSeconds + 10) * 1000;
    if (performance.now() - searchStarted + estimateMs > budgetMs && steps.length > 0) break;
    const stepStarted = performance.now();
    context.log(`ceiling step ${steps.length + 1}: ${rate} jobs every second, ${windowSeconds} s`);
    const load = await runFleetLoad(context.stack, fleet, {
      agents: 3,
      agentArgs: DEFAULT_AGENT_ARGS,
      verify: 'events',
      jobs: jobsOf(
        {
          name: `ceiling${steps.length + 1}`,
          agents: 3,
          jobs: rate,
          everySeconds: 1,
          windowSeconds,
        },
        LAUNCH_COMMAND,
      ),
      // One tick before the window: a job's first claim also creates its tick key.
      warmupMs: 1_500,
      windowMs: windowSeconds * 1000,
      deleteJobs: 'at-window-end',
      measureWrites: false,
      recordsTimeoutMs: 0,
      claimsPossibleForMs: 0,
      claimWaitMs: 10_000,
      writersDrainMs: context.quick ? 2_000 : 5_000,
      log: context.log,
    });
    const passed = load.duplicates === 0 && load.missed === 0;
    // A backlog of records left in the writers would have FerretDB (a core of this machine)
    // chew on it through the next step: agents with one are replaced (their journals go).
    const backlogBytes = fleet.agents.reduce((n, a) => n + dirBytes(join(a.stateDir, 'spill')), 0);
    if (backlogBytes > 0) await fleet.resize(0, DEFAULT_AGENT_ARGS);
    const durationS = (performance.now() - stepStarted) / 1000;
    steps.push({ rate, backlogBytes, passed, durationS, load });
    context.log(
      `  ${passed ? 'passed' : 'failed'}: ${load.duplicates} duplicate / ${load.missed} missed of ` +
        `${load.expectedRuns}; lateness p99 ${fmt(load.lateness.p99)} ms (${fmt(durationS)} s)`,
    );
    rate = nextRate(steps, maxRate);
  }
  await resetLastRuns(context.stack, fleet);

  const best = steps
    .filter((s) => s.passed)
    .reduce<Step | undefined>((a, s) => (a === undefined || s.rate > a.rate ? s : a), undefined);
  const ceiling = best?.rate ?? 0;
  const ratio = ceiling / reference.runsPerSecond;
  const lowestFailed = Math.min(Infinity, ...steps.filter((s) => !s.passed).map((s) => s.rate));
  const firstFailure = steps.find((s) => s.rate === lowestFailed);
  const why = firstFailure
    ? `claims at ${lowestFailed}: ` +
      Object.entries(firstFailure.load.claimOutcomes)
        .sort()
        .map(([key, n]) => `${key} ${n}`)
        .join(', ') +
      '; '
    : '';
  const trail = steps
    .map(
      (s) =>
        `${s.rate} ${s.passed ? '✓' : `✗ (${s.load.missed} missed, ${s.load.duplicates} dup.)`}`,
    )
    .join(', ');
  const label = `3 agents, default settings, ${windowSeconds}-s steps`;
  const rows: Row[] = [
    {
      measure: `reference launcher: ${reference.runs} runs of \`${LAUNCH_COMMAND}\`, ${reference.inflight} in flight`,
      value: `${fmt(reference.runsPerSecond)} runs/s`,
      target: '—',
      verdict: 'info',
      note: `${fmt(reference.seconds)} s; Go os/exec, output captured, no scheduling: what this machine can launch`,
    },
    {
      measure: `${label}: highest rate with 0 missed / 0 duplicate ticks`,
      value: best ? `${ceiling} runs/s` : `< ${Math.min(...steps.map((s) => s.rate))} runs/s`,
      target: '—',
      verdict: 'info',
      note:
        `steps (jobs due each second): ${trail}; ` +
        (Number.isFinite(lowestFailed)
          ? `lowest failing ${lowestFailed}; ${why}`
          : 'none failed; ') +
        `search ${fmt((performance.now() - searchStarted) / 1000)} s`,
    },
    {
      measure: 'ceiling ÷ reference rate',
      value: fmt(ratio),
      target: `≥ ${CEILING_RATIO_TARGET}`,
      verdict: judge(ratio >= CEILING_RATIO_TARGET),
      note: `compass ${CEILING_RATIO_COMPASS}`,
    },
  ];
  if (best) {
    const bestLabel = `at ${best.rate} runs/s`;
    rows.push(cpuRow(bestLabel, best.load), loopDelayRow(bestLabel, best.load));
  }
  return {
    rows,
    data: {
      reference,
      ceilingRunsPerSecond: ceiling,
      ratio,
      windowSeconds,
      steps: steps.map((s) => ({
        rate: s.rate,
        backlogBytes: s.backlogBytes,
        passed: s.passed,
        durationS: s.durationS,
        load: s.load,
      })),
    },
  };
}

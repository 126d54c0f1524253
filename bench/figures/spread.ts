/**
 * Figure 3 — spread: each agent's share of the runs, 5 agents, 500 jobs every 5 s (a fifth of
 * them on each second, 100 runs/s) for 30 s (--quick: 5 s), against an even share. Agents rank themselves per job@tick by
 * rendezvous hashing, so the share is even in expectation; the figure shows how close it lands.
 */
import type { BenchContext, SteadyLoad } from '../lib/context.ts';
import { cpuNote, integrityRow } from '../lib/load-rows.ts';
import { judge, type Row } from '../lib/report.ts';
import { fmtDistribution } from '../lib/stats.ts';

export const id = 3;
export const title = 'Spread';

export const SPREAD_TARGET_PERCENT = 20;

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const shape: SteadyLoad = {
    name: 'spread',
    agents: 5,
    jobs: 500,
    everySeconds: 5,
    windowSeconds: context.quick ? 5 : 30,
  };
  const load = await context.steadyLoad(shape);
  const counts = Object.values(load.runsByAgent);
  const runs = counts.reduce((n, c) => n + c, 0);
  const even = runs / counts.length;
  const deviations = counts.map((c) => ((c - even) / even) * 100);
  const worst = Math.max(...deviations.map(Math.abs));
  const shares = Object.entries(load.runsByAgent)
    .map(([agent, c]) => `${agent} ${((c / runs) * 100).toFixed(1)} %`)
    .join(', ');
  return {
    rows: [
      {
        measure: `${shape.jobs} jobs, 5 agents, ${runs} runs: deviation from even (min / max)`,
        value: `${Math.min(...deviations).toFixed(1)} % / +${Math.max(...deviations).toFixed(1)} %`,
        target: `within ±${SPREAD_TARGET_PERCENT} %`,
        verdict: judge(worst <= SPREAD_TARGET_PERCENT),
        note: shares,
      },
      integrityRow('same load', load),
      {
        measure: `same load: lateness p50 / p99 / max`,
        value: fmtDistribution(load.lateness),
        target: '—',
        verdict: 'info',
        note: cpuNote(load),
      },
    ],
    data: { runsByAgent: load.runsByAgent, runs, deviations, load },
  };
}

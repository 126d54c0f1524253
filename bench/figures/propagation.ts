/**
 * Figure 4 — propagation: a job PUT through the control plane's API → every agent has the new
 * schedule. The job is rescheduled to a new one-shot year each time; each agent emits
 * `scheduler:planned` with the new next tick and a timestamp (`t`) once its scheduler holds it.
 * A sample is the latest agent's `t` minus the moment before the PUT (one clock: one machine).
 */
import type { BenchContext } from '../lib/context.ts';
import type { AgentEvent } from '../lib/agent.ts';
import { judge, type Row } from '../lib/report.ts';
import { distribution, fmtDistribution } from '../lib/stats.ts';

export const id = 4;
export const title = 'Propagation';

export const PROPAGATION_P99_TARGET_MS = 100;
const AGENTS = 5;
const JOB = 'propagation-probe';

/** `0 0 0 1 1 * <year>`: fires once, at the start of that year (far away: it never runs). */
function scheduleFor(i: number): { cronExpr: string; tick: number } {
  const year = 2100 + i;
  return { cronExpr: `0 0 0 1 1 * ${year}`, tick: Date.UTC(year, 0, 1) };
}

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const fleet = await context.fleet();
  await fleet.resize(AGENTS);
  const { world, agents } = fleet;
  const samples = context.quick ? 20 : 99;
  const put = async (i: number): Promise<number[]> => {
    const { cronExpr, tick } = scheduleFor(i);
    const planned = (e: AgentEvent): boolean => e.job === JOB && e.nextTick === tick;
    const waits = agents.map((a) => a.waitForEvent('scheduler:planned', planned, 10_000));
    const before = Date.now();
    const answer = await world.call('PUT', `/v1/jobs/${JOB}`, {
      body: { command: 'true', cronExpr },
    });
    if (answer.status !== 200 && answer.status !== 201)
      throw new Error(`PUT /v1/jobs/${JOB} answered ${answer.status}: ${answer.text}`);
    const apiMs = Date.now() - before;
    const events = await Promise.all(waits);
    const latest = Math.max(...events.map((e) => Date.parse(String(e.t))));
    return [latest - before, apiMs];
  };
  await put(0);
  const propagation: number[] = [];
  const api: number[] = [];
  for (let i = 1; i <= samples; i++) {
    const [all, apiMs] = await put(i);
    propagation.push(all ?? NaN);
    api.push(apiMs ?? NaN);
  }
  await world.call('DELETE', `/v1/jobs/${JOB}`);
  for (const agent of agents) agent.clearEvents();
  const d = distribution(propagation);
  return {
    rows: [
      {
        measure: `PUT → all ${AGENTS} agents planned, ${samples} PUTs: p50 / p99 / max`,
        value: fmtDistribution(d),
        target: `p99 ≤ ${PROPAGATION_P99_TARGET_MS} ms`,
        verdict: judge(d.p99 <= PROPAGATION_P99_TARGET_MS),
        note: `of which the API answering the PUT: ${fmtDistribution(distribution(api))}`,
      },
    ],
    data: { samplesMs: propagation, apiMs: api, distribution: d },
  };
}

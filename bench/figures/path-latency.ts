/**
 * Figure 11 — path latency: what the launch path itself adds to a tick. One job (`echo tick`)
 * every second on an otherwise idle fleet of 3 agents with the agent's default settings, for 30 s
 * (--quick: 10 s): tick → process started (`run:started` latenessMs, by the launcher's start
 * stamp), p50/p99/max. Nothing queues here, so this is the claim transaction, the hand-over to
 * the launcher and its fork/exec, plus the timer's own lateness.
 */
import { LAUNCH_COMMAND, type BenchContext, type SteadyLoad } from '../lib/context.ts';
import { DEFAULT_AGENT_ARGS } from '../lib/fleet.ts';
import { resetLastRuns } from '../lib/bench-db.ts';
import { cpuRow, integrityRow, loopDelayRow } from '../lib/load-rows.ts';
import { judge, type Row } from '../lib/report.ts';
import { fmtDistribution } from '../lib/stats.ts';

export const id = 11;
export const title = 'Path latency';

export const PATH_P99_TARGET_MS = 5;

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const shape: SteadyLoad = {
    name: 'path',
    agents: 3,
    jobs: 1,
    everySeconds: 1,
    windowSeconds: context.quick ? 10 : 30,
    agentArgs: DEFAULT_AGENT_ARGS,
    command: LAUNCH_COMMAND,
  };
  await resetLastRuns(context.stack, await context.fleet());
  const load = await context.steadyLoad(shape);
  const label = `1 job/s, 3 idle agents, ${shape.windowSeconds} s`;
  const rows: Row[] = [
    {
      measure: `${label}: tick → launch p50 / p99 / max`,
      value: fmtDistribution(load.lateness),
      target: `p99 ≤ ${PATH_P99_TARGET_MS} ms`,
      verdict: judge(load.lateness.p99 <= PATH_P99_TARGET_MS),
      note:
        `${load.lateness.count} runs (run:started latenessMs, the launcher's start stamp); from records: ` +
        `${fmtDistribution(load.recordLateness)}; of which tick → claim won (timer + claim ` +
        `transaction, by the claim:outcome event's time) ${fmtDistribution(load.claimedAfter)}; ` +
        `default agent settings; executor ` +
        `${[...new Set(Object.values(load.executors))].join(', ')}`,
    },
    integrityRow(label, load),
    loopDelayRow(label, load),
    cpuRow(label, load, false),
  ];
  return { rows, data: { load } };
}

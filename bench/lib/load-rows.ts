/** The rows every fleet load reports: CPU per run, event-loop delay, duplicate and missed ticks. */
import { availableParallelism } from 'node:os';
import type { LoadResult } from './load.ts';
import { judge, type Row } from './report.ts';
import { fmt } from './stats.ts';

/** Targets of the launch path (issue 14) for every fleet load. */
export const AGENT_CPU_PER_RUN_TARGET_MS = 1.5;
export const LOOP_DELAY_P99_TARGET_MS = 10;

/** Where the time went: the agents' and launchers' CPU per run, the servers', the machine's. */
export function cpuNote(load: LoadResult): string {
  const launcher =
    load.launchers > 0 ? `launchers ${fmt(load.launcherCpuMsPerRun)} ms per run; ` : '';
  return (
    `agents used ${fmt(load.agentCpuMsPerRun)} ms CPU per run (${fmt(load.agentCpuPercent)} % of a core ` +
    `together); ${launcher}etcd ${fmt(load.etcdCpuPercent)} %, MongoDB-wire server ` +
    `${fmt(load.mongoCpuPercent)} % of a core; the machine was ${fmt(load.machineBusyPercent)} % busy ` +
    `(all ${availableParallelism()} cores)`
  );
}

/**
 * CPU per run: the agents' own processes (judged), their launchers apart; neither includes the
 * runs' shells. `judged` false for loads where the agents' idle work dominates (1 run/s).
 */
export function cpuRow(label: string, load: LoadResult, judged = true): Row {
  const launcher = load.launchers > 0 ? fmt(load.launcherCpuMsPerRun) : 'none';
  const executors = [...new Set(Object.values(load.executors))].join(', ');
  return {
    measure: `${label}: CPU per run, agent / launcher`,
    value: `${fmt(load.agentCpuMsPerRun)} / ${launcher} ms`,
    target: `agent ≤ ${AGENT_CPU_PER_RUN_TARGET_MS} ms`,
    verdict: judged ? judge(load.agentCpuMsPerRun <= AGENT_CPU_PER_RUN_TARGET_MS) : 'info',
    note:
      `${load.lateness.count} runs over ${fmt(load.measuredMs / 1000)} s; agents ${fmt(load.agentCpuPercent)} %, ` +
      `launchers ${fmt(load.launcherCpuPercent)} %, etcd ${fmt(load.etcdCpuPercent)} %, ` +
      `MongoDB-wire server ${fmt(load.mongoCpuPercent)} % of a core; machine ${fmt(load.machineBusyPercent)} % ` +
      `busy; executor ${executors}${load.launchers < load.agents ? ` (${load.launchers} launcher(s) found for ${load.agents} agents)` : ''}` +
      (judged ? '' : "; at this rate the agents' idle work dominates, so not judged"),
  };
}

/** The agents' event-loop delay over the load (largest p99 of their 5-s intervals). */
export function loopDelayRow(label: string, load: LoadResult): Row {
  const measure = `${label}: agents' event-loop delay p99`;
  if (load.loopDelay === null) {
    return {
      measure,
      value: 'not measured',
      target: `≤ ${LOOP_DELAY_P99_TARGET_MS} ms`,
      verdict: 'n/a',
      note: 'the agents emitted no agent:loopDelay events (an agent older than its loop monitor)',
    };
  }
  const d = load.loopDelay;
  return {
    measure,
    value: `${fmt(d.p99MaxMs)} ms`,
    target: `≤ ${LOOP_DELAY_P99_TARGET_MS} ms`,
    verdict: judge(d.p99MaxMs <= LOOP_DELAY_P99_TARGET_MS),
    note: `the largest p99 of ${d.intervals} 5-s intervals (all agents) overlapping the load; median p99 ${fmt(d.p99MedianMs)} ms, largest delay ${fmt(d.maxMs)} ms`,
  };
}

/** The "must be 0" row: duplicate and missed ticks (runs not yet logged are named apart). */
export function integrityRow(label: string, load: LoadResult): Row {
  const ok = load.duplicates === 0 && load.missed === 0;
  const unlogged = load.unlogged > 0 ? ` (${load.unlogged} ran, not yet logged)` : '';
  return {
    measure: `${label}: duplicate / missed ticks`,
    value: `${load.duplicates} / ${load.missed} of ${load.expectedRuns}${unlogged}`,
    target: '0 / 0',
    verdict: judge(ok),
    ...(ok
      ? {}
      : {
          note:
            (load.serverWedged ? 'the MongoDB-wire server wedged and was restarted; ' : '') +
            `skipped records cover ${load.skippedTicks} ticks; ${load.lost} runs lost; claims: ` +
            Object.entries(load.claimOutcomes)
              .sort()
              .map(([key, n]) => `${key} ${n}`)
              .join(', '),
        }),
  };
}

/**
 * Figure 5 — kill latency: `POST /v1/jobs/:name/kill` → every process of the run is gone. Each
 * job runs `sleep 300 & sleep 300 & wait` once (a one-shot schedule a few seconds out); its
 * processes are found by CRONPLANE_RUN_ID in /proc/<pid>/environ (the shell and both sleeps),
 * then the kill is sent and those pids are polled until none is alive (zombies count as gone).
 */
import type { BenchContext } from '../lib/context.ts';
import { oneShot, padded, secondAfter } from '../lib/jobs.ts';
import { isAlive, processesOfRun } from '../lib/proc.ts';
import { judge, type Row } from '../lib/report.ts';
import { distribution, fmtDistribution, sleep } from '../lib/stats.ts';
import { waitUntil } from '../../test/stack/index.ts';

export const id = 5;
export const title = 'Kill latency';

export const KILL_P99_TARGET_MS = 250;
const AGENTS = 5;
const COMMAND = 'sleep 300 & sleep 300 & wait';

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const fleet = await context.fleet();
  await fleet.resize(AGENTS);
  const { world, agents } = fleet;
  const count = context.quick ? 5 : 30;
  const names = Array.from({ length: count }, (_, i) => padded('kill', i, 3));
  const tick = secondAfter(2_000);
  for (const name of names) {
    const answer = await world.call('PUT', `/v1/jobs/${name}`, {
      body: { command: COMMAND, cronExpr: oneShot(tick) },
    });
    if (answer.status !== 201)
      throw new Error(`PUT ${name} answered ${answer.status}: ${answer.text}`);
  }
  const runIds = await Promise.all(
    names.map((name) =>
      Promise.any(
        agents.map((a) => a.waitForEvent('run:started', (e) => e.job === name, 20_000)),
      ).then((e) => String(e.runId)),
    ),
  );
  const samples: number[] = [];
  const leftovers: number[] = [];
  for (const [i, name] of names.entries()) {
    const runId = runIds[i] ?? '';
    const pids = await waitUntil(
      async () => {
        const found = await processesOfRun(runId);
        return found.length >= 3 ? found : null;
      },
      { timeoutMs: 10_000, what: `the shell and both sleeps of ${name}` },
    );
    const started = performance.now();
    const answer = await world.call('POST', `/v1/jobs/${name}/kill`, { body: {} });
    if (answer.status !== 202)
      throw new Error(`kill ${name} answered ${answer.status}: ${answer.text}`);
    const deadline = started + 5_000;
    while (pids.some(isAlive) && performance.now() < deadline) await sleep(1);
    samples.push(performance.now() - started);
    leftovers.push(...(await processesOfRun(runId)));
  }
  for (const name of names) await world.call('DELETE', `/v1/jobs/${name}`);
  for (const agent of agents) agent.clearEvents();
  const d = distribution(samples);
  return {
    rows: [
      {
        measure: `kill → process group gone, ${count} runs: p50 / p99 / max`,
        value: fmtDistribution(d),
        target: `p99 ≤ ${KILL_P99_TARGET_MS} ms`,
        verdict: judge(d.p99 <= KILL_P99_TARGET_MS && leftovers.length === 0),
        ...(leftovers.length > 0
          ? { note: `processes still alive after 5 s: ${leftovers.join(', ')}` }
          : {}),
      },
    ],
    data: { samplesMs: samples, distribution: d, leftovers },
  };
}

/**
 * Agent figures on the real stack: etcd write requests per run for the whole fleet (1 and 3
 * agents), fire lateness (process start − tick), and agent RSS with 1,000 jobs loaded.
 * Run: node --import tsx bench/agent-coordination.ts [--seconds N] [--jobs N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startStack, type Stack } from '../test/stack/index.ts';
import { createFixture } from '../test/agent/fixture.ts';

const WRITE_METHODS = ['Txn', 'Put', 'DeleteRange', 'LeaseGrant', 'LeaseRevoke'];

async function etcdWriteRequests(stack: Stack): Promise<number> {
  const text = await (await fetch(stack.etcd.metricsUrl)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^grpc_server_handled_total\{[^}]*grpc_method="(\w+)"[^}]*\} (\d+)/.exec(line);
    if (match && WRITE_METHODS.includes(match[1] as string)) total += Number(match[2]);
  }
  return total;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function coordination(
  stack: Stack,
  agentCount: number,
  jobCount: number,
  seconds: number,
): Promise<Record<string, number>> {
  await using world = createFixture(stack);
  const agents = await world.startAgents(
    Array.from({ length: agentCount }, (_, i) => `bench-${i + 1}`),
  );
  const writesBefore = await etcdWriteRequests(stack);
  for (let i = 0; i < jobCount; i++)
    await world.putJob({ name: `job-${i}`, command: 'true', cronExpr: '* * * * * *' });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  for (let i = 0; i < jobCount; i++) await world.deleteJob(`job-${i}`);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const writes = (await etcdWriteRequests(stack)) - writesBefore - 2 * jobCount;
  const started = agents.flatMap((a) => a.events.filter((e) => e.event === 'run:started'));
  const lateness = started.map((e) => Number(e.latenessMs)).sort((a, b) => a - b);
  return {
    agents: agentCount,
    runs: started.length,
    writesPerRun: writes / started.length,
    latenessP50Ms: percentile(lateness, 50),
    latenessP99Ms: percentile(lateness, 99),
    latenessMaxMs: lateness.at(-1) ?? NaN,
  };
}

async function footprint(stack: Stack, jobCount: number): Promise<Record<string, number>> {
  await using world = createFixture(stack);
  const [agent] = await world.startAgents(['footprint']);
  if (!agent?.child.pid) throw new Error('agent did not start');
  const idleRss = rssMb(agent.child.pid);
  const ops = Array.from({ length: jobCount }, (_, i) =>
    world.etcd.put(world.keys.job(`load-${i}`)).value(
      JSON.stringify({
        name: `load-${i}`,
        command: 'true',
        cronExpr: `${i % 60} ${i % 60} * * * *`,
      }),
    ),
  );
  await Promise.all(ops);
  await agent.waitForEvent('scheduler:planned', (e) => e.job === `load-${jobCount - 1}`, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return {
    jobs: jobCount,
    rssMb: Math.round(rssMb(agent.child.pid)),
    idleRssMb: Math.round(idleRss),
  };
}

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '15' }, jobs: { type: 'string', default: '20' } },
});
const stack = await startStack();
try {
  const rows = [];
  for (const agentCount of [1, 3])
    rows.push(await coordination(stack, agentCount, Number(values.jobs), Number(values.seconds)));
  console.table(rows);
  console.table([await footprint(stack, 1_000)]);
} finally {
  await stack.stop();
}

/**
 * Figure 7 — footprint: agent RSS and idle CPU with 10,000 jobs loaded. The jobs are daily,
 * spread over the seconds of hours that start two hours from now, so none fires while measured.
 * RSS (VmRSS) before the jobs and after loading them and settling; CPU is utime + stime from
 * /proc/<pid>/stat over an idle window of 30 s (--quick: 5 s). The agent runs through tsx (as
 * `npm start` does) and, when `npm run build:agent` has produced one, from the esbuild bundle
 * (dist/agent/*.cjs, what the installer ships, run with the installed unit's node flags) — both
 * at once, on the same jobs. Beside each agent, the RSS of its cronplane-launcher (the child that
 * starts its runs; the bundle is given the launcher built with it, as the installer puts it
 * beside the bundle).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFixture } from '../../test/agent/fixture.ts';
import { waitUntil } from '../../test/stack/index.ts';
import { startBenchAgent, type AgentEntry, type BenchAgent } from '../lib/agent.ts';
import { findAgentBundle, INSTALLED_NODE_FLAGS, launcherForBundle } from '../lib/bundle.ts';
import type { BenchContext } from '../lib/context.ts';
import { padded, putJobs, type BenchJob } from '../lib/jobs.ts';
import { summarizeHeapSnapshot, type HeapSummary } from '../lib/heap.ts';
import { cpuSeconds, launcherOf, peakRssMiB, rssMiB, rssMiBOrNaN } from '../lib/proc.ts';
import { judge, type Row } from '../lib/report.ts';
import { fmt, sleep } from '../lib/stats.ts';

export const id = 7;
export const title = 'Footprint';

export const RSS_TARGET_MIB = 150;
const JOBS = 10_000;
function spreadJobs(): BenchJob[] {
  const firstHour = new Date().getUTCHours() + 2;
  return Array.from({ length: JOBS }, (_, i) => ({
    name: padded('footprint', i),
    cronExpr: `${i % 60} ${Math.floor(i / 60) % 60} ${(firstHour + Math.floor(i / 3600)) % 24} * * *`,
  }));
}

/**
 * A heap snapshot of the agent (SIGUSR2, see --heapsnapshot-signal), summed by constructor: what
 * the jobs cost in live objects, next to the RSS they cost. Bounded: gives up after 90 s.
 */
async function heapOf(agent: BenchAgent, dir: string): Promise<HeapSummary | null> {
  process.kill(agent.pid, 'SIGUSR2');
  let file = '';
  let lastSize = -1;
  for (let i = 0; i < 90; i++) {
    await sleep(1_000);
    file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot')) ?? '';
    const size = file === '' ? -1 : statSync(join(dir, file)).size;
    if (size > 0 && size === lastSize) return summarizeHeapSnapshot(join(dir, file), 8);
    lastSize = size;
  }
  return null;
}

interface Measured {
  readonly entry: string;
  readonly executor: string;
  /** The agent's cronplane-launcher: RSS with 0 jobs and with the jobs loaded (NaN: none). */
  readonly launcherRssIdleMiB: number;
  readonly launcherRssLoadedMiB: number;
  readonly rssIdleMiB: number;
  readonly rssLoadedMiB: number;
  readonly peakRssMiB: number;
  readonly loadSeconds: number;
  readonly cpuPercent: number;
}

export async function run(
  context: BenchContext,
): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  await using world = createFixture(context.stack);
  const heapDir = mkdtempSync(join(tmpdir(), 'cronplane-bench-heap-'));
  const bundle = findAgentBundle();
  const entries: [string, AgentEntry][] = [['tsx', { kind: 'tsx' }]];
  if (bundle !== undefined) entries.push([`bundle`, { kind: 'bundle', path: bundle }]);
  const bundleLauncher = bundle === undefined ? undefined : launcherForBundle(bundle);
  const agents: BenchAgent[] = entries.map(([name, entry]) =>
    startBenchAgent({
      etcdEndpoints: context.stack.etcd.endpoints,
      mongoUrl: context.stack.mongo.url,
      database: world.database,
      prefix: world.prefix,
      agentId: `footprint-${name}`,
      entry,
      keepEvents: false,
      ...(entry.kind === 'bundle' && bundleLauncher !== undefined
        ? { extraArgs: ['--launcher-path', bundleLauncher] }
        : {}),
      nodeFlags: [
        ...(entry.kind === 'bundle' ? INSTALLED_NODE_FLAGS : []),
        '--heapsnapshot-signal=SIGUSR2',
        `--diagnostic-dir=${heapDir}`,
      ],
    }),
  );
  try {
    await Promise.all(agents.map((a) => a.waitForEvent('agent:ready', () => true, 60_000)));
    await sleep(1_000);
    const rssIdle = agents.map((a) => rssMiB(a.pid));
    const launchers = agents.map((a) => launcherOf(a.pid));
    const launcherRssIdle = launchers.map((pid) => rssMiBOrNaN(pid));
    const planned = agents.map(() => 0);
    const doneAt = agents.map(() => 0);
    agents.forEach((a, i) =>
      a.on('scheduler:planned', () => {
        planned[i] = (planned[i] ?? 0) + 1;
        if (planned[i] === JOBS) doneAt[i] = performance.now();
      }),
    );
    context.log(`footprint: loading ${JOBS} jobs into ${agents.length} agent(s)`);
    const loadStarted = performance.now();
    await putJobs(world.etcd, world.keys, spreadJobs());
    await waitUntil(() => planned.every((n) => n >= JOBS), {
      timeoutMs: 120_000,
      what: `${JOBS} jobs planned by every agent`,
      intervalMs: 100,
    });
    await sleep(context.quick ? 2_000 : 5_000);
    const idleSeconds = context.quick ? 5 : 30;
    const cpuBefore = agents.map((a) => cpuSeconds(a.pid));
    const started = performance.now();
    await sleep(idleSeconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    const measured: Measured[] = agents.map((a, i) => ({
      entry: entries[i]?.[0] ?? '?',
      executor: a.executor ?? 'unknown',
      launcherRssIdleMiB: launcherRssIdle[i] ?? NaN,
      launcherRssLoadedMiB: rssMiBOrNaN(launchers[i]),
      rssIdleMiB: rssIdle[i] ?? NaN,
      rssLoadedMiB: rssMiB(a.pid),
      peakRssMiB: peakRssMiB(a.pid),
      loadSeconds: ((doneAt[i] ?? 0) - loadStarted) / 1000,
      cpuPercent: ((cpuSeconds(a.pid) - (cpuBefore[i] ?? 0)) / elapsed) * 100,
    }));
    const rows: Row[] = measured.flatMap((m) => [
      {
        measure: `${m.entry}: RSS with ${JOBS} jobs (0 jobs → loaded, peak)`,
        value: `${fmt(m.rssLoadedMiB)} MiB`,
        target: `≤ ${RSS_TARGET_MIB} MiB`,
        verdict: judge(m.rssLoadedMiB <= RSS_TARGET_MIB),
        note: `${fmt(m.rssIdleMiB)} MiB with 0 jobs; peak ${fmt(m.peakRssMiB)} MiB; ${JOBS} jobs planned ${fmt(m.loadSeconds)} s after the first put; its launcher ${fmt(m.launcherRssLoadedMiB)} MiB besides`,
      },
      {
        measure: `${m.entry}: its launcher's RSS (0 jobs → loaded)`,
        value: Number.isFinite(m.launcherRssLoadedMiB)
          ? `${fmt(m.launcherRssLoadedMiB)} MiB`
          : 'none',
        target: '—',
        verdict: 'info' as const,
        note: Number.isFinite(m.launcherRssLoadedMiB)
          ? `${fmt(m.launcherRssIdleMiB)} MiB with 0 jobs; cronplane-launcher, the agent's child (executor ${m.executor})`
          : `no cronplane-launcher child found; the agent's executor is ${m.executor}`,
      },
      {
        measure: `${m.entry}: idle CPU over ${idleSeconds} s`,
        value: `${fmt(m.cpuPercent)} % of a core`,
        target: '—',
        verdict: 'info' as const,
      },
    ]);
    if (bundle === undefined) {
      rows.push({
        measure: 'bundle',
        value: 'n/a',
        target: '—',
        verdict: 'n/a',
        note: 'no dist/agent/*.cjs: run `npm run build:agent` first',
      });
    }
    // Over target: name what the memory holds (full runs only; a snapshot takes a while).
    let heap: HeapSummary | null = null;
    const last = agents.length - 1;
    if (!context.quick && (measured[last]?.rssLoadedMiB ?? 0) > RSS_TARGET_MIB && agents[last]) {
      context.log(`footprint: heap snapshot of the ${entries[last]?.[0] ?? ''} agent`);
      heap = await heapOf(agents[last], heapDir);
      if (heap) {
        rows.push({
          measure: `${entries[last]?.[0] ?? ''}: live V8 heap with ${JOBS} jobs (snapshot)`,
          value: `${fmt(heap.totalMiB)} MiB`,
          target: '—',
          verdict: 'info',
          note: heap.top.map((b) => `${b.what} ${fmt(b.mib)} MiB ×${b.count}`).join('; '),
        });
      }
    }
    return { rows, data: { jobs: JOBS, idleSeconds, bundle: bundle ?? null, measured, heap } };
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    rmSync(heapDir, { recursive: true, force: true });
  }
}

/**
 * @module `npm run bench` — the benchmark figures of issues 8 and 14 on the real local stack (etcd and the
 * MongoDB-wire server on free loopback ports, real agent processes), printed as a table against
 * their targets and written to bench/results/<timestamp>.json with the machine they ran on. A
 * missed target is reported, never a failure; the exit code is non-zero only when a figure
 * could not be measured at all.
 *
 *   npm run bench                     the full run (about 35 minutes)
 *   npm run bench -- --quick          shorter windows and smaller loads (about 8 minutes)
 *   npm run bench -- --only 1,5       some figures only
 *   npm run bench -- --profile        also --cpu-prof the fleet's agents (kept in .cache/bench-profiles/)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../test/stack/index.ts';
import * as api from './figures/api.ts';
import * as burstDrain from './figures/burst-drain.ts';
import * as coordination from './figures/coordination.ts';
import * as footprint from './figures/footprint.ts';
import * as kill from './figures/kill.ts';
import * as launchCeiling from './figures/launch-ceiling.ts';
import * as lateness from './figures/lateness.ts';
import * as logIngest from './figures/log-ingest.ts';
import * as pathLatency from './figures/path-latency.ts';
import * as propagation from './figures/propagation.ts';
import * as spread from './figures/spread.ts';
import { createContext, type BenchContext } from './lib/context.ts';
import { deleteAllJobs } from './lib/jobs.ts';
import { closeBenchClients, ensureMongoWritable } from './lib/bench-db.ts';
import { describeMachine, loadAverage } from './lib/machine.ts';
import { summarizeProfiles, type ProfileSummary } from './lib/profile.ts';
import { renderTable, type FigureResult, type Row } from './lib/report.ts';

interface Figure {
  readonly id: number;
  readonly title: string;
  run(context: BenchContext): Promise<{ rows: Row[]; data: Record<string, unknown> }>;
}

/**
 * Run order. The fleet figures come first and share one fleet, which grows 1 → 3 → 5 agents
 * for the steady loads (figure 2 runs all three; 1 and 3 reuse them) and shrinks to 3 for the
 * burst. The launch-path figures follow on 3 agents restarted with the agent's default
 * settings: the idle path first (11), then the bursts (10), then the ceiling search (9), which
 * overloads the fleet on purpose. Figure 6 comes last: it kills the MongoDB-wire server.
 */
const FLEET_FIGURES: readonly Figure[] = [
  coordination,
  spread,
  propagation,
  kill,
  lateness,
  pathLatency,
  burstDrain,
  launchCeiling,
];
const SOLO_FIGURES: readonly Figure[] = [api, footprint, logIngest];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const only = values.only === undefined ? null : new Set(values.only.split(',').map(Number));
const selected = (f: Figure): boolean => only === null || only.has(f.id);

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s`;
const log = (message: string): void => {
  process.stderr.write(`[bench ${elapsed()}] ${message}\n`);
};

// Every wait inside is bounded; this bounds the whole, whatever hangs.
const watchdog = setTimeout(
  () => {
    log('watchdog: the run took too long; stopping (agents and servers are killed on exit)');
    process.exit(1);
  },
  (quick ? 15 : 55) * 60_000,
);
watchdog.unref();
process.once('SIGINT', () => process.exit(130));

/** Kept after the run (.cache is ignored by git), to be opened in Chrome DevTools or re-read. */
const profileDir = values.profile
  ? join(
      import.meta.dirname,
      '../.cache/bench-profiles',
      new Date(started).toISOString().replace(/[:.]/g, '-'),
    )
  : undefined;
const loadAtStart = loadAverage();
log(`mode ${quick ? 'quick' : 'full'}; load average ${loadAtStart.join(' ')}; starting the stack`);
const stack = await startStack();
const machine = await describeMachine(stack);
log(
  `${machine.nproc} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, etcd ${machine.etcd}, ${machine.mongoVersion}`,
);
const context = createContext({ quick, stack, log, ...(profileDir ? { profileDir } : {}) });

const results: FigureResult[] = [];
const loadPerFigure: Record<string, [number, number, number]> = {};
let failed = false;
/** When the bench had to restart a wedged MongoDB-wire server (see lib/load.ts). */
const mongoRestarts: string[] = [];

async function runFigure(figure: Figure): Promise<void> {
  log(`figure ${figure.id}: ${figure.title}`);
  loadPerFigure[figure.id] = loadAverage();
  const figureStarted = performance.now();
  try {
    if (await ensureMongoWritable(stack, log)) mongoRestarts.push(`before figure ${figure.id}`);
    const { rows, data } = await figure.run(context);
    results.push({
      ...figure,
      rows,
      data,
      durationS: Math.round((performance.now() - figureStarted) / 100) / 10,
    });
  } catch (error) {
    failed = true;
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`figure ${figure.id} failed: ${message}`);
    results.push({
      id: figure.id,
      title: figure.title,
      rows: [
        {
          measure: 'run',
          value: 'error',
          target: '—',
          verdict: 'error',
          note: message.split('\n')[0] ?? '',
        },
      ],
      data: { error: message },
      durationS: Math.round((performance.now() - figureStarted) / 100) / 10,
    });
    // Leave the shared fleet clean for the next figure.
    const fleet = await context.fleet().catch(() => undefined);
    if (fleet) await deleteAllJobs(fleet.world.etcd, fleet.world.keys).catch(() => undefined);
  }
}

let profile: ProfileSummary | null = null;
try {
  for (const figure of FLEET_FIGURES.filter(selected)) await runFigure(figure);
  await context.closeFleet();
  if (profileDir !== undefined) profile = summarizeProfiles(profileDir);
  for (const figure of SOLO_FIGURES.filter(selected)) await runFigure(figure);
} finally {
  await context.closeFleet().catch(() => undefined);
  await closeBenchClients();
  await stack.stop();
}

results.sort((a, b) => a.id - b.id);
const loadAtEnd = loadAverage();
const durationS = Math.round((Date.now() - started) / 1000);
const report = {
  startedAt: new Date(started).toISOString(),
  durationS,
  mode: quick ? 'quick' : 'full',
  only: only === null ? null : [...only],
  machine,
  loadAverage: { start: loadAtStart, end: loadAtEnd, perFigure: loadPerFigure },
  figures: results,
  mongoRestarts,
  profile,
};
const resultsDir = join(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

const out: string[] = [
  '',
  `cronplane benchmarks (${report.mode}), ${report.startedAt}, ${durationS} s`,
  `machine: ${machine.nproc} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, etcd ${machine.etcd}, ${machine.mongoVersion}`,
  `load average (1/5/15 min): ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`,
  '',
  renderTable(results),
  '',
];
if (profile) {
  out.push(
    `CPU profile of the fleet's agents (${profile.files} processes, ${profile.busySeconds} s busy), top self time:`,
  );
  for (const frame of profile.top)
    out.push(`  ${String(frame.selfPercent).padStart(5)} %  ${frame.frame}`);
  out.push(`profiles: ${relative(process.cwd(), profileDir ?? '')}`);
  out.push('');
}
out.push(`results: ${relative(process.cwd(), file)}`);
process.stdout.write(`${out.join('\n')}\n`);
// Exit now rather than when the last bounded wait's timer runs out (stdout is synchronous for
// files and pipes on Linux, so nothing written is lost).
process.exit(failed ? 1 : 0);

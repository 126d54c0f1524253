/**
 * One load scenario on the fleet: put jobs, wait until every agent has planned them, let the
 * first ticks pass (a job's first claim also creates its tick key), then measure a window of
 * ticks:
 *
 *   lateness      run:started latenessMs (process spawned − tick, agent clock), first attempts
 *   runs          MongoDB `log` records whose planTime lies in the window
 *   duplicates    (job, tick) pairs with more than one real record — must be 0
 *   missed        (job, tick) pairs of the schedule with no real record — must be 0 (a run the
 *                 agents announced whose record is still on its way counts as unlogged instead)
 *   skipped       `skipped` records' tick counts overlapping the window (part of `missed`)
 *   writes        etcd write RPCs from just before the first tick until every run of the window
 *                 was released (minus the bench's own job deletion), per run started in it
 *   spread        runs each agent started (run:started)
 *   CPU           the agents' CPU time (utime + stime) per run, and the machine's busy share
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db, type Document } from 'mongodb';
import type { Etcd3 } from 'etcd3';
import { AGENT_DEFAULTS } from '../../agent/config.ts';
import { decodeTick } from '../../core/keys.ts';
import { LAST_RUN_COLLECTION } from '../../core/run-log.ts';
import { waitUntil } from '../../test/stack/index.ts';
import type { Stack } from '../../test/stack/index.ts';
import type { AgentEvent, BenchAgent } from './agent.ts';
import { etcdWriteCounts, totalWrites, writesBetween, type WriteCounts } from './etcd-metrics.ts';
import type { Fleet } from './fleet.ts';
import { deleteAllJobs, firstTickFrom, putJobs, ticksBetween, type BenchJob } from './jobs.ts';
import { busyPercent, cpuSeconds, dirBytes, machineCpu, type MachineCpu } from './proc.ts';
import { judge, type Row } from './report.ts';
import { distribution, fmt, sleep, type Distribution } from './stats.ts';

export interface LoadSpec {
  readonly agents: number;
  readonly jobs: readonly BenchJob[];
  /** First tick of the window is the first tick at least this long after every agent planned. */
  readonly warmupMs: number;
  readonly windowMs: number;
  /** Delete the jobs at the window's end (steady loads) or only once the records are in. */
  readonly deleteJobs: 'at-window-end' | 'after-records';
  readonly measureWrites: boolean;
  /** How long to wait for every record to reach MongoDB. */
  readonly recordsTimeoutMs: number;
  /** How long after the window claims may still come (jobs not deleted: the misfire window). */
  readonly claimsPossibleForMs: number;
  readonly log: (message: string) => void;
}

export interface LoadResult {
  readonly agents: number;
  readonly jobs: number;
  readonly windowStart: string;
  readonly windowMs: number;
  readonly expectedRuns: number;
  readonly runs: number;
  readonly duplicates: number;
  /** Ticks of the schedule nobody ran (no record and no run:started). */
  readonly missed: number;
  /** Ticks that ran but whose record had not reached MongoDB when the wait ended. */
  readonly unlogged: number;
  /** The MongoDB-wire server stopped answering queries while the records drained (restarted). */
  readonly serverWedged: boolean;
  readonly skippedTicks: number;
  readonly lost: number;
  readonly lateness: Distribution;
  /** startTime − planTime of the records (the executor's own start stamp). */
  readonly recordLateness: Distribution;
  readonly writes: WriteCounts | null;
  readonly writesPerRun: number;
  /** Runs started while writes were counted (the window's, and ticks claimed just after it). */
  readonly runsSinceWindow: number;
  /** First attempts each agent started in the window (its run:started events). */
  readonly runsByAgent: Record<string, number>;
  readonly claimOutcomes: Record<string, number>;
  /** CPU the agents used over the window, per run started in it, in ms. */
  readonly agentCpuMsPerRun: number;
  /** The agents' CPU over the window, in % of one core (all agents together). */
  readonly agentCpuPercent: number;
  /** The whole machine's CPU over the window, in % of all its cores. */
  readonly machineBusyPercent: number;
  /** How late the etcd metric snapshots were taken (should be ~0: a starved bench skews writes). */
  readonly snapshotSlipMs: readonly number[];
}

const benchClients = new Map<string, MongoClient>();

/**
 * The bench's own reads, each bounded (client-side timeout): a server that hangs must not hang
 * the benchmark. Closed by closeBenchClients().
 */
export function benchDb(stack: Stack, database: string): Db {
  let client = benchClients.get(stack.mongo.url);
  if (!client) {
    // socketTimeoutMS: the driver's per-operation timeout (timeoutMS) is not in effect in 7.x.
    client = new MongoClient(stack.mongo.url, {
      socketTimeoutMS: 15_000,
      serverSelectionTimeoutMS: 10_000,
    });
    benchClients.set(stack.mongo.url, client);
  }
  return client.db(database);
}

export async function closeBenchClients(): Promise<void> {
  const clients = [...benchClients.values()];
  benchClients.clear();
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
}

/**
 * One last-run summary per job, older than any run: the steady state of a fleet whose jobs have
 * all run before, so the agents' summary upserts update a document rather than insert the first
 * one. (It was added while FerretDB 1.24 kept wedging; the cause turned out to be update commands
 * with 100 or more matching statements, which the agent no longer sends — see
 * LAST_RUN_UPSERTS_PER_COMMAND in agent/run-log-writer.ts.) On MongoDB this changes nothing.
 */
export async function seedLastRuns(db: Db, jobNames: readonly string[]): Promise<void> {
  const docs = jobNames.map((jobName) => ({
    jobName,
    runId: `${jobName}-seed`,
    status: 'succeeded',
    planTime: 0,
    startTime: 0,
    endTime: 0,
    exitCode: 0,
    agentId: 'bench-seed',
  }));
  for (let i = 0; i < docs.length; i += 1_000) {
    await db
      .collection(LAST_RUN_COLLECTION)
      .insertMany(docs.slice(i, i + 1_000), { ordered: false })
      .catch(() => undefined); // a summary that already exists is as good
  }
}

/**
 * True when the database takes a write (within the client's socket timeout). A read is not
 * enough: with FerretDB wedged, reads still answer while every write waits.
 */
async function writable(db: Db): Promise<boolean> {
  try {
    await db
      .collection('bench_probe')
      .updateOne({ _id: 'probe' as never }, { $set: { at: Date.now() } }, { upsert: true });
    return true;
  } catch {
    return false;
  }
}

/** Restarts the MongoDB-wire server if a write to a scratch database hangs; true if it did. */
export async function ensureMongoWritable(
  stack: Stack,
  log: (message: string) => void,
): Promise<boolean> {
  if (stack.mongo.kind === 'external') return false;
  if (await writable(benchDb(stack, 'cronplane_bench_probe'))) return false;
  log('the MongoDB-wire server does not take writes: restarting it');
  await stack.mongo.restart();
  return true;
}

const CLAIM_EVENTS = new Set([
  'claim:outcome',
  'claim:misfire',
  'claim:fenced',
  'claim:atCapacity',
  'claim:failed',
  'claim:alreadyClaimed',
]);

interface Snapshot {
  readonly at: number;
  readonly agentCpu: number;
  readonly machine: MachineCpu;
  readonly writes: WriteCounts | null;
}

interface LogDoc {
  readonly jobName: string;
  readonly planTime: number;
  readonly status: string;
  readonly agentId: string;
  readonly startTime: number;
  readonly attempt?: number;
  readonly skip?: { count: number; firstMissed: number; lastMissed: number } | null;
}

const PROJECTION = {
  _id: 0,
  jobName: 1,
  planTime: 1,
  status: 1,
  agentId: 1,
  startTime: 1,
  attempt: 1,
  skip: 1,
};

/** True once every job's claimed tick (its tick key) has reached its last tick in the window. */
async function windowClaimed(
  etcd: Etcd3,
  ticksPrefix: string,
  jobs: readonly BenchJob[],
  expected: ReadonlyMap<string, number[]>,
): Promise<boolean> {
  const claimed = await etcd.getAll().prefix(ticksPrefix).strings();
  return jobs.every((job) => {
    const last = expected.get(job.cronExpr)?.at(-1);
    const tick = claimed[ticksPrefix + job.name];
    return last === undefined || (decodeTick(tick ?? '') ?? 0) >= last;
  });
}

async function sleepUntil(epochMs: number): Promise<void> {
  await sleep(epochMs - Date.now());
}

export async function runFleetLoad(
  stack: Stack,
  fleet: Fleet,
  spec: LoadSpec,
): Promise<LoadResult> {
  const db = benchDb(stack, fleet.world.database);
  await fleet.resize(spec.agents);
  const { world } = fleet;
  const agents = fleet.agents;
  const names = new Set(spec.jobs.map((j) => j.name));
  for (const agent of agents) agent.clearEvents();

  const planned = agents.map(() => new Set<string>());
  const offs = agents.map((agent, i) =>
    agent.on('scheduler:planned', (e) => {
      if (typeof e.job === 'string' && names.has(e.job) && e.nextTick !== null)
        planned[i]?.add(e.job);
    }),
  );
  await seedLastRuns(db, [...names]);
  const loadStarted = performance.now();
  await putJobs(world.etcd, world.keys, spec.jobs);
  await waitUntil(() => planned.every((set) => set.size === names.size), {
    timeoutMs: 120_000,
    what: `${agents.length} agents to plan ${names.size} jobs`,
    intervalMs: 50,
  });
  for (const off of offs) off();
  spec.log(
    `  ${names.size} jobs planned by ${agents.length} agent(s) in ${Math.round(performance.now() - loadStarted)} ms`,
  );

  // The window opens at the first tick of any job at least warmupMs from now.
  const exprs = [...new Set(spec.jobs.map((j) => j.cronExpr))];
  const earliest = Date.now() + spec.warmupMs;
  const t0 = Math.min(...exprs.map((e) => firstTickFrom(e, earliest) ?? Infinity));
  if (!Number.isFinite(t0)) throw new Error('the load has no tick within a day');
  const t1 = t0 + spec.windowMs;
  spec.log(`  window ${new Date(t0).toISOString()} + ${spec.windowMs} ms`);

  // Snapshots of etcd's write counters and of CPU time: just before the window's first tick, and
  // just before its end (steady loads) or once every record is in (bursts, whose runs outlast
  // the window's single tick).
  const snapshotSlipMs: number[] = [];
  const snapshot = async (): Promise<Snapshot> => ({
    at: performance.now(),
    agentCpu: agents.reduce((n, a) => n + cpuSeconds(a.pid), 0),
    machine: machineCpu(),
    writes: spec.measureWrites ? await etcdWriteCounts(stack.etcd.metricsUrl) : null,
  });
  await sleepUntil(t0 - 300);
  snapshotSlipMs.push(Date.now() - (t0 - 300));
  const before = await snapshot();
  let after: Snapshot | undefined;
  await sleepUntil(t1 - 300);
  const expected = new Map<string, number[]>();
  for (const expr of exprs) expected.set(expr, ticksBetween(expr, t0, t1));
  if (spec.deleteJobs === 'at-window-end') {
    snapshotSlipMs.push(Date.now() - (t1 - 300));
    after = await snapshot();
    // An overloaded fleet claims late; deleting the jobs now would turn the window's last
    // ticks, still to be claimed, into "missed". Wait (as long as a claim may still come) until
    // every job's tick key has reached its last tick of the window.
    await waitUntil(() => windowClaimed(world.etcd, world.keys.ticksPrefix, spec.jobs, expected), {
      timeoutMs: Math.max(0, t1 + AGENT_DEFAULTS.misfireWindowMs - Date.now()),
      what: "the window's last ticks to be claimed",
      intervalMs: 100,
    }).catch(() => undefined);
    await deleteAllJobs(world.etcd, world.keys);
  }

  const expectedRuns = spec.jobs.reduce((n, j) => n + (expected.get(j.cronExpr)?.length ?? 0), 0);

  // Every record is in MongoDB once no agent has a run in flight and every spill journal is
  // empty again (the writer truncates it only when all it accepted is written). Claims can come
  // until the misfire window has passed, so that much time must pass after the last tick.
  const drainStarted = performance.now();
  let drainTimedOut = false;
  const claimsPossibleUntil = t1 + spec.claimsPossibleForMs;
  let quietSince: number | null = null;
  const pending = (agent: BenchAgent): { runs: number; spillBytes: number } => {
    const inFlight = new Set<unknown>();
    for (const e of agent.events) {
      if (e.event === 'run:started') inFlight.add(e.runId);
      else if (e.event === 'run:ended') inFlight.delete(e.runId);
    }
    return { runs: inFlight.size, spillBytes: dirBytes(join(agent.stateDir, 'spill')) };
  };
  const quiet = (): boolean =>
    agents.every((agent) => {
      const { runs, spillBytes } = pending(agent);
      return runs === 0 && spillBytes === 0;
    });
  await waitUntil(
    () => {
      if (Date.now() < claimsPossibleUntil || !quiet()) {
        quietSince = null;
        return false;
      }
      quietSince ??= performance.now();
      return performance.now() - quietSince >= 1_000;
    },
    { timeoutMs: spec.recordsTimeoutMs, what: 'the agents to write every record', intervalMs: 200 },
  ).catch((error: unknown) => {
    spec.log(`  ${String(error)}`);
    drainTimedOut = true;
    for (const agent of agents) {
      const { runs, spillBytes } = pending(agent);
      const logEvents = agent.events.filter((e) => e.event.startsWith('log:'));
      spec.log(
        `  ${agent.agentId}: ${runs} runs in flight, spill ${spillBytes} B, ` +
          `${logEvents.length} log:* events, last ${JSON.stringify(logEvents.at(-1) ?? null)}`,
      );
    }
  });
  const wedged = drainTimedOut && !(await writable(db));
  if (wedged) {
    // Seen with FerretDB 1.24 (SQLite) under several agents' writers: reads answer, every write
    // on the database waits. Restart it so the run can go on; the agents' writers
    // retry, and their journals keep every record meanwhile.
    spec.log('  the MongoDB-wire server does not take writes: restarting it');
    await stack.mongo.restart();
    await waitUntil(() => quiet(), {
      timeoutMs: spec.recordsTimeoutMs,
      what: 'the agents to write every record after the restart',
      intervalMs: 200,
    }).catch((error: unknown) => spec.log(`  ${String(error)}`));
  }
  const log = db.collection<LogDoc>('log');
  const inWindow: Document = { planTime: { $gte: t0, $lt: t1 }, status: { $ne: 'skipped' } };
  spec.log(
    `  ${await log.countDocuments(inWindow)}/${expectedRuns} records in MongoDB ` +
      `${Math.round(performance.now() - drainStarted)} ms after the window`,
  );
  if (!after) {
    after = await snapshot();
    await deleteAllJobs(world.etcd, world.keys);
  }
  // Writes are counted until every run of the window has been released: the claims and releases
  // of its runs, and nothing else but the one DeleteRange that removed the jobs.
  const writesDone = spec.measureWrites ? await etcdWriteCounts(stack.etcd.metricsUrl) : null;
  if (writesDone) writesDone.DeleteRange -= 1;

  const docs = (await log.find(inWindow, { projection: PROJECTION }).toArray()).filter((d) =>
    names.has(d.jobName),
  );
  const skips = (
    await log.find({ status: 'skipped' }, { projection: PROJECTION }).toArray()
  ).filter(
    (d) => names.has(d.jobName) && d.skip && d.skip.lastMissed >= t0 && d.skip.firstMissed < t1,
  );

  const seen = new Map<string, number>();
  let lost = 0;
  const recordLateness: number[] = [];
  for (const doc of docs) {
    if ((doc.attempt ?? 1) !== 1) continue;
    const key = `${doc.jobName}@${doc.planTime}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (doc.status === 'lost') lost++;
    else recordLateness.push(doc.startTime - doc.planTime);
  }
  const inRange = (e: AgentEvent, field: string): boolean => {
    const value = e[field];
    return typeof value === 'number' && value >= t0 && value < t1;
  };
  // Runs the agents announced: a record still in an agent's writer when the wait ends is
  // "unlogged", not missed; two announcements of one tick are a duplicate all the same.
  const started = new Map<string, number>();
  const runsByAgent: Record<string, number> = {};
  for (const agent of agents) {
    runsByAgent[agent.agentId] = 0;
    for (const e of agent.events) {
      if (e.event !== 'run:started' || e.attempt !== 1 || typeof e.job !== 'string') continue;
      if (!names.has(e.job) || !inRange(e, 'planTime')) continue;
      const key = `${e.job}@${String(e.planTime)}`;
      started.set(key, (started.get(key) ?? 0) + 1);
      runsByAgent[agent.agentId] = (runsByAgent[agent.agentId] ?? 0) + 1;
    }
  }
  let missed = 0;
  let unlogged = 0;
  for (const job of spec.jobs) {
    for (const tick of expected.get(job.cronExpr) ?? []) {
      const key = `${job.name}@${tick}`;
      if (seen.has(key)) continue;
      if (started.has(key)) unlogged++;
      else missed++;
    }
  }
  const duplicates = Math.max(
    [...seen.values()].reduce((n, c) => n + Math.max(0, c - 1), 0),
    [...started.values()].reduce((n, c) => n + Math.max(0, c - 1), 0),
  );

  const lateness: number[] = [];
  const claimOutcomes: Record<string, number> = {};
  let runsSinceWindow = 0;
  for (const agent of agents) {
    for (const e of agent.events) {
      if (typeof e.job !== 'string' || !names.has(e.job)) continue;
      if (e.event === 'run:started' && e.attempt === 1 && Number(e.planTime) >= t0)
        runsSinceWindow++;
      if (e.event === 'run:started' && e.attempt === 1 && inRange(e, 'planTime'))
        lateness.push(Number(e.latenessMs));
      // Claims sent (claim:outcome) and ticks an agent gave up on before sending one.
      if (CLAIM_EVENTS.has(e.event) && inRange(e, 'tick')) {
        const outcome = e.event === 'claim:outcome' ? String(e.outcome) : e.event.slice(6);
        const key = typeof e.rank === 'number' ? `rank${e.rank}:${outcome}` : outcome;
        claimOutcomes[key] = (claimOutcomes[key] ?? 0) + 1;
      }
    }
    agent.clearEvents();
  }

  const writes = before.writes && writesDone ? writesBetween(before.writes, writesDone) : null;
  const agentCpuSeconds = after.agentCpu - before.agentCpu;
  const snapshotSeconds = (after.at - before.at) / 1000;
  return {
    agents: agents.length,
    jobs: names.size,
    windowStart: new Date(t0).toISOString(),
    windowMs: spec.windowMs,
    expectedRuns,
    runs: seen.size,
    duplicates,
    missed,
    unlogged,
    serverWedged: wedged,
    skippedTicks: skips.reduce((n, d) => n + (d.skip?.count ?? 0), 0),
    lost,
    lateness: distribution(lateness),
    recordLateness: distribution(recordLateness),
    writes,
    // Per run started while writes were counted: the window's and any tick after it that was
    // claimed before the jobs were deleted.
    writesPerRun: writes ? totalWrites(writes) / Math.max(1, runsSinceWindow) : NaN,
    runsSinceWindow,
    runsByAgent,
    claimOutcomes,
    agentCpuMsPerRun: (agentCpuSeconds * 1000) / Math.max(1, lateness.length),
    agentCpuPercent: (agentCpuSeconds / snapshotSeconds) * 100,
    machineBusyPercent: busyPercent(before.machine, after.machine),
    snapshotSlipMs,
  };
}

/** Where the time went: the agents' CPU per run, and how busy the whole machine was. */
export function cpuNote(load: LoadResult): string {
  return (
    `agents used ${fmt(load.agentCpuMsPerRun)} ms CPU per run (${fmt(load.agentCpuPercent)} % of a core ` +
    `together); the machine was ${fmt(load.machineBusyPercent)} % busy (all ${availableParallelism()} cores)`
  );
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

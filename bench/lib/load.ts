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
 *   CPU           the agents' CPU time (utime + stime of the agent's own process) per run, the
 *                 launchers' apart (each agent's cronplane-launcher child; neither counts the
 *                 runs' shells, which are their children), etcd's and the MongoDB-wire server's
 *                 share of a core, and the machine's busy share
 *   loop delay    the agents' event-loop delay: the largest p99 of the 5-s intervals of their
 *                 `agent:loopDelay` events that overlap the measured span (null when the agent
 *                 emits none)
 *   drain         per tick of the window, tick → last run:started of that tick (the largest
 *                 latenessMs among its first attempts)
 *
 * Steady loads are measured over the window; bursts (the jobs' ticks fall in a short window and
 * the runs outlast it) from just before the first tick until every claim has settled and every
 * run it won has been launched and has ended — the records' drain into MongoDB comes after.
 */
import { join } from 'node:path';
import type { Document } from 'mongodb';
import type { Etcd3 } from 'etcd3';
import { AGENT_DEFAULTS } from '../../agent/config.ts';
import { decodeTick } from '../../core/keys.ts';
import { waitUntil } from '../../test/stack/index.ts';
import type { Stack } from '../../test/stack/index.ts';
import type { AgentEvent, BenchAgent } from './agent.ts';
import { benchDb, seedLastRuns, writable } from './bench-db.ts';
import { tallyTicks, type LogDoc } from './tally.ts';
import { etcdWriteCounts, totalWrites, writesBetween, type WriteCounts } from './etcd-metrics.ts';
import type { Fleet } from './fleet.ts';
import { deleteAllJobs, firstTickFrom, putJobs, ticksBetween, type BenchJob } from './jobs.ts';
import {
  busyPercent,
  cpuSeconds,
  cpuSecondsOrNaN,
  dirBytes,
  launcherOf,
  machineCpu,
  type MachineCpu,
} from './proc.ts';
import { distribution, sleep, type Distribution } from './stats.ts';

export interface LoadSpec {
  readonly agents: number;
  /** The agents' arguments (default FLEET_AGENT_ARGS); the fleet restarts when they change. */
  readonly agentArgs?: readonly string[];
  /**
   * `records` (default): duplicates and missed ticks from MongoDB's records, waited for (a run
   * announced whose record is not in yet counts as unlogged); `events`: from the agents'
   * run:started events only, without waiting for MongoDB (the launch ceiling's many steps).
   */
  readonly verify?: 'records' | 'events';
  readonly jobs: readonly BenchJob[];
  /** First tick of the window is the first tick at least this long after every agent planned. */
  readonly warmupMs: number;
  readonly windowMs: number;
  /**
   * Delete the jobs at the window's end (steady loads), once every claim of the window has
   * settled (a burst due once), or only once the records are in (a burst repeated each minute).
   */
  readonly deleteJobs: 'at-window-end' | 'after-claims' | 'after-records';
  readonly measureWrites: boolean;
  /** How long to wait for every record to reach MongoDB. */
  readonly recordsTimeoutMs: number;
  /**
   * Bursts: how long after the window claims may still come (the agents' misfire window). The
   * wait ends earlier once every job's tick is claimed, or once no agent has claimed, given up
   * on or started anything of the load for CLAIMS_QUIET_MS; this is only its upper bound.
   */
  readonly claimsPossibleForMs: number;
  /**
   * Steady loads: how long after the window its last ticks may still be claimed before the jobs
   * are deleted (default: the agents' misfire window; the wait ends once they are claimed).
   */
  readonly claimWaitMs?: number;
  /**
   * `events` loads: wait up to this long after the window for the agents' writers to empty
   * their spill journals (records into MongoDB), so the next load starts without a backlog.
   */
  readonly writersDrainMs?: number;
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
  /**
   * Tick → the winning claim's answer (its claim:outcome event's time, first attempts of the
   * window): the timer's lateness plus the claim transaction; lateness minus this is the
   * hand-over to the executor and its fork/exec.
   */
  readonly claimedAfter: Distribution;
  readonly writes: WriteCounts | null;
  readonly writesPerRun: number;
  /** Runs started while writes were counted (the window's, and ticks claimed just after it). */
  readonly runsSinceWindow: number;
  /** First attempts each agent started in the window (its run:started events). */
  readonly runsByAgent: Record<string, number>;
  readonly claimOutcomes: Record<string, number>;
  /**
   * Every event the agents wrote on stderr during the load, by name (the bench's verbose stream
   * is work the agents do for the bench: a JSON line each, written synchronously to a pipe).
   */
  readonly eventCounts: Record<string, number>;
  /** CPU the agents' own processes used over the window, per run started in it, in ms. */
  readonly agentCpuMsPerRun: number;
  /** The agents' CPU over the window, in % of one core (all agents together). */
  readonly agentCpuPercent: number;
  /** CPU of the agents' launchers (cronplane-launcher, not the runs' shells), per run, in ms. */
  readonly launcherCpuMsPerRun: number;
  readonly launcherCpuPercent: number;
  /** Agents whose launcher was found; `node` executors have none. */
  readonly launchers: number;
  readonly executors: Record<string, string>;
  /** etcd's and the MongoDB-wire server's CPU over the window, in % of one core. */
  readonly etcdCpuPercent: number;
  readonly mongoCpuPercent: number;
  /** Length of the span CPU and loop delay were measured over, in ms. */
  readonly measuredMs: number;
  readonly loopDelay: LoopDelay | null;
  readonly launchesByTick: readonly TickLaunches[];
  /** The whole machine's CPU over the window, in % of all its cores. */
  readonly machineBusyPercent: number;
  /** How late the etcd metric snapshots were taken (should be ~0: a starved bench skews writes). */
  readonly snapshotSlipMs: readonly number[];
}

/** The agents' event-loop delay over a load, from their `agent:loopDelay` events. */
export interface LoopDelay {
  /** Intervals (one agent's 5 s each) that overlap the measured span. */
  readonly intervals: number;
  /** The largest p99 among them, and the largest single delay. */
  readonly p99MaxMs: number;
  readonly maxMs: number;
  /** The median of the intervals' p99s. */
  readonly p99MedianMs: number;
}

/** One tick of the window: how many runs it was due, how many started, when the last did. */
export interface TickLaunches {
  readonly tick: number;
  readonly expected: number;
  readonly started: number;
  /** Tick → last run:started of the tick (its largest latenessMs); NaN when none started. */
  readonly lastLaunchMs: number;
}

/** No claim or start of a burst's jobs for this long: every agent has had its turn. */
const CLAIMS_QUIET_MS = 5_000;
/** The agents' `agent:loopDelay` interval (agent/loop-monitor.ts). */
const LOOP_DELAY_INTERVAL_MS = 5_000;

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
  /** Each agent's launcher's CPU seconds, by launcher pid. */
  readonly launcherCpu: ReadonlyMap<number, number>;
  readonly etcdCpu: number;
  readonly mongoCpu: number;
  readonly machine: MachineCpu;
  readonly writes: WriteCounts | null;
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
  const verify = spec.verify ?? 'records';
  await fleet.resize(spec.agents, spec.agentArgs);
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
  const inWindowTick = (value: unknown): boolean =>
    typeof value === 'number' && value >= t0 && value < t1;

  // What the agents do with the window's ticks, as it happens: claims won, first attempts
  // started, runs in flight, and when anything last happened to one of the load's jobs.
  let claimsWon = 0;
  let firstStarts = 0;
  const inFlight = new Set<unknown>();
  let lastActivity = Date.now();
  let loopEventsSeen = false;
  const watchers = agents.flatMap((agent) => [
    ...[...CLAIM_EVENTS, 'run:started', 'run:ended'].map((name) =>
      agent.on(name, (e) => {
        if (typeof e.job !== 'string' || !names.has(e.job)) return;
        lastActivity = Date.now();
        if (name === 'claim:outcome' && e.outcome === 'claimed' && inWindowTick(e.tick))
          claimsWon++;
        if (name === 'run:started') {
          inFlight.add(e.runId);
          if (e.attempt === 1 && inWindowTick(e.planTime)) firstStarts++;
        }
        if (name === 'run:ended') inFlight.delete(e.runId);
      }),
    ),
    agent.on('agent:loopDelay', () => {
      loopEventsSeen = true;
    }),
  ]);
  /** Every claim of the window won so far has been launched, and no run is in flight. */
  const launched = (): boolean => firstStarts >= claimsWon && inFlight.size === 0;

  // Snapshots of etcd's write counters and of CPU time: just before the window's first tick, and
  // just before its end (steady loads) or once every run of the window has been launched and
  // has ended (bursts, whose runs outlast the window's single tick).
  const snapshotSlipMs: number[] = [];
  let launcherPids: number[] = [];
  const snapshot = async (): Promise<Snapshot> => ({
    at: performance.now(),
    agentCpu: agents.reduce((n, a) => n + cpuSeconds(a.pid), 0),
    launcherCpu: new Map(launcherPids.map((pid) => [pid, cpuSecondsOrNaN(pid)])),
    etcdCpu: cpuSecondsOrNaN(stack.etcd.pid),
    mongoCpu: cpuSecondsOrNaN(stack.mongo.pid),
    machine: machineCpu(),
    writes: spec.measureWrites ? await etcdWriteCounts(stack.etcd.metricsUrl) : null,
  });
  await sleepUntil(t0 - 300);
  snapshotSlipMs.push(Date.now() - (t0 - 300));
  launcherPids = agents.flatMap((a) => launcherOf(a.pid) ?? []);
  const measuredFrom = Date.now();
  const before = await snapshot();
  let after: Snapshot | undefined;
  let measuredUntil = 0;
  await sleepUntil(t1 - 300);
  const expected = new Map<string, number[]>();
  for (const expr of exprs) expected.set(expr, ticksBetween(expr, t0, t1));
  if (spec.deleteJobs === 'at-window-end') {
    snapshotSlipMs.push(Date.now() - (t1 - 300));
    measuredUntil = Date.now();
    after = await snapshot();
    // An overloaded fleet claims late; deleting the jobs now would turn the window's last
    // ticks, still to be claimed, into "missed". Wait (as long as a claim may still come) until
    // every job's tick key has reached its last tick of the window.
    await waitUntil(() => windowClaimed(world.etcd, world.keys.ticksPrefix, spec.jobs, expected), {
      timeoutMs: Math.max(
        0,
        t1 + (spec.claimWaitMs ?? AGENT_DEFAULTS.misfireWindowMs) - Date.now(),
      ),
      what: "the window's last ticks to be claimed",
      intervalMs: 100,
    }).catch(() => undefined);
    await deleteAllJobs(world.etcd, world.keys);
  } else {
    // A burst: its ticks can be claimed until the misfire window has passed. Wait until every
    // job's tick is claimed or nothing of the load has happened for CLAIMS_QUIET_MS (each
    // agent has tried each tick its rank gave it: claimed, lost, or given up), at most that
    // long; meanwhile, CPU is read again each time every run won so far has ended.
    let settledAfter: { snapshot: Snapshot; until: number; activity: number } | undefined;
    await waitUntil(
      async () => {
        if (launched() && settledAfter?.activity !== lastActivity) {
          const until = Date.now();
          settledAfter = { snapshot: await snapshot(), until, activity: lastActivity };
        }
        if (Date.now() < t1) return false;
        if (Date.now() - lastActivity >= CLAIMS_QUIET_MS) return true;
        return windowClaimed(world.etcd, world.keys.ticksPrefix, spec.jobs, expected);
      },
      {
        timeoutMs: Math.max(0, t1 + spec.claimsPossibleForMs - Date.now()),
        what: "the burst's claims to settle",
        intervalMs: 250,
      },
    ).catch((error: unknown) => spec.log(`  ${String(error)}`));
    await waitUntil(launched, {
      timeoutMs: 60_000,
      what: 'every claimed run to be launched and to end',
      intervalMs: 50,
    }).catch((error: unknown) => spec.log(`  ${String(error)}`));
    if (settledAfter?.activity === lastActivity) {
      after = settledAfter.snapshot;
      measuredUntil = settledAfter.until;
    } else {
      measuredUntil = Date.now();
      after = await snapshot();
    }
    if (spec.deleteJobs === 'after-claims') await deleteAllJobs(world.etcd, world.keys);
  }
  // The window's ticks claimed since have been launched (the launch ceiling reads only events).
  await waitUntil(launched, {
    timeoutMs: 30_000,
    what: 'every claimed run to be launched and to end',
    intervalMs: 50,
  }).catch((error: unknown) => spec.log(`  ${String(error)}`));

  const expectedRuns = spec.jobs.reduce((n, j) => n + (expected.get(j.cronExpr)?.length ?? 0), 0);

  // Every record is in MongoDB once no agent has a run in flight and every spill journal is
  // empty again (the writer truncates it only when all it accepted is written).
  const drainStarted = performance.now();
  let quietSince: number | null = null;
  const pending = (agent: BenchAgent): { runs: number; spillBytes: number } => {
    const running = new Set<unknown>();
    for (const e of agent.events) {
      if (e.event === 'run:started') running.add(e.runId);
      else if (e.event === 'run:ended') running.delete(e.runId);
    }
    return { runs: running.size, spillBytes: dirBytes(join(agent.stateDir, 'spill')) };
  };
  const quiet = (): boolean =>
    agents.every((agent) => {
      const { runs, spillBytes } = pending(agent);
      return runs === 0 && spillBytes === 0;
    });
  let wedged = false;
  let docs: LogDoc[] = [];
  let skips: LogDoc[] = [];
  const log = db.collection<LogDoc>('log');
  const inWindow: Document = { planTime: { $gte: t0, $lt: t1 }, status: { $ne: 'skipped' } };
  if (verify === 'records') {
    let drainTimedOut = false;
    await waitUntil(
      () => {
        if (!quiet()) {
          quietSince = null;
          return false;
        }
        quietSince ??= performance.now();
        return performance.now() - quietSince >= 1_000;
      },
      {
        timeoutMs: spec.recordsTimeoutMs,
        what: 'the agents to write every record',
        intervalMs: 200,
      },
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
    wedged = drainTimedOut && !(await writable(db));
    if (wedged) {
      // Seen with FerretDB 1.24 (SQLite) under several agents' writers: reads answer, every
      // write on the database waits. Restart it so the run can go on; the agents' writers
      // retry, and their journals keep every record meanwhile.
      spec.log('  the MongoDB-wire server does not take writes: restarting it');
      await stack.mongo.restart();
      await waitUntil(() => quiet(), {
        timeoutMs: spec.recordsTimeoutMs,
        what: 'the agents to write every record after the restart',
        intervalMs: 200,
      }).catch((error: unknown) => spec.log(`  ${String(error)}`));
    }
    spec.log(
      `  ${await log.countDocuments(inWindow)}/${expectedRuns} records in MongoDB ` +
        `${Math.round(performance.now() - drainStarted)} ms after the window`,
    );
  }
  if (verify === 'events' && spec.writersDrainMs !== undefined) {
    await waitUntil(quiet, {
      timeoutMs: spec.writersDrainMs,
      what: "the agents' writers to drain",
      intervalMs: 200,
    }).catch(() => undefined);
  }
  if (spec.deleteJobs === 'after-records') await deleteAllJobs(world.etcd, world.keys);
  // Writes are counted until every run of the window has been released: the claims and releases
  // of its runs, and nothing else but the one DeleteRange that removed the jobs.
  const writesDone = spec.measureWrites ? await etcdWriteCounts(stack.etcd.metricsUrl) : null;
  if (writesDone) writesDone.DeleteRange -= 1;

  if (verify === 'records') {
    docs = (await log.find(inWindow, { projection: PROJECTION }).toArray()).filter((d) =>
      names.has(d.jobName),
    );
    skips = (await log.find({ status: 'skipped' }, { projection: PROJECTION }).toArray()).filter(
      (d) => names.has(d.jobName) && d.skip && d.skip.lastMissed >= t0 && d.skip.firstMissed < t1,
    );
  }

  // The last loop-delay interval overlapping the measured span, when the agents report them.
  if (loopEventsSeen) {
    await waitUntil(
      () =>
        agents.every((a) =>
          a.events.some(
            (e) => e.event === 'agent:loopDelay' && Date.parse(String(e.t)) >= measuredUntil,
          ),
        ),
      { timeoutMs: LOOP_DELAY_INTERVAL_MS + 1_500, what: 'loop-delay events', intervalMs: 100 },
    ).catch(() => undefined);
  }
  for (const off of watchers) off();

  const inRange = (e: AgentEvent, field: string): boolean => inWindowTick(e[field]);
  const tally = tallyTicks({
    docs,
    agents,
    names,
    jobs: spec.jobs,
    expected,
    inWindowTick,
    verify,
  });
  const { seen, lost, recordLateness, started, runsByAgent, missed, unlogged, duplicates } = tally;
  const { launchesByTick } = tally;

  const lateness: number[] = [];
  const claimedAfter: number[] = [];
  const claimOutcomes: Record<string, number> = {};
  const eventCounts: Record<string, number> = {};
  const loopIntervals: { p99: number; max: number }[] = [];
  const executors: Record<string, string> = {};
  let runsSinceWindow = 0;
  for (const agent of agents) {
    executors[agent.agentId] = agent.executor ?? 'unknown';
    for (const e of agent.events) {
      eventCounts[e.event] = (eventCounts[e.event] ?? 0) + 1;
      if (e.event === 'agent:loopDelay') {
        // Each event covers the LOOP_DELAY_INTERVAL_MS before it.
        const end = Date.parse(String(e.t));
        if (end > measuredFrom && end - LOOP_DELAY_INTERVAL_MS < measuredUntil)
          loopIntervals.push({ p99: Number(e.p99Ms), max: Number(e.maxMs) });
        continue;
      }
      if (typeof e.job !== 'string' || !names.has(e.job)) continue;
      if (e.event === 'run:started' && e.attempt === 1 && Number(e.planTime) >= t0)
        runsSinceWindow++;
      if (e.event === 'run:started' && e.attempt === 1 && inRange(e, 'planTime'))
        lateness.push(Number(e.latenessMs));
      // Claims sent (claim:outcome) and ticks an agent gave up on before sending one.
      if (e.event === 'claim:outcome' && e.outcome === 'claimed' && inRange(e, 'tick'))
        claimedAfter.push(Date.parse(String(e.t)) - Number(e.tick));
      if (CLAIM_EVENTS.has(e.event) && inRange(e, 'tick')) {
        const outcome = e.event === 'claim:outcome' ? String(e.outcome) : e.event.slice(6);
        const key = typeof e.rank === 'number' ? `rank${e.rank}:${outcome}` : outcome;
        claimOutcomes[key] = (claimOutcomes[key] ?? 0) + 1;
      }
    }
    agent.clearEvents();
  }

  const writes = before.writes && writesDone ? writesBetween(before.writes, writesDone) : null;
  const snapshotSeconds = (after.at - before.at) / 1000;
  const agentCpuSeconds = after.agentCpu - before.agentCpu;
  // A launcher restarted during the load has no second reading: its CPU is then unknown.
  let launcherCpuSeconds = 0;
  for (const [pid, cpu] of before.launcherCpu)
    launcherCpuSeconds += (after.launcherCpu.get(pid) ?? NaN) - cpu;
  const runs = Math.max(1, lateness.length);
  const p99s = loopIntervals.map((i) => i.p99).sort((a, b) => a - b);
  return {
    agents: agents.length,
    jobs: names.size,
    windowStart: new Date(t0).toISOString(),
    windowMs: spec.windowMs,
    expectedRuns,
    runs: verify === 'records' ? seen.size : started.size,
    duplicates,
    missed,
    unlogged,
    serverWedged: wedged,
    skippedTicks: skips.reduce((n, d) => n + (d.skip?.count ?? 0), 0),
    lost,
    lateness: distribution(lateness),
    recordLateness: distribution(recordLateness),
    claimedAfter: distribution(claimedAfter),
    writes,
    // Per run started while writes were counted: the window's and any tick after it that was
    // claimed before the jobs were deleted.
    writesPerRun: writes ? totalWrites(writes) / Math.max(1, runsSinceWindow) : NaN,
    runsSinceWindow,
    runsByAgent,
    claimOutcomes,
    eventCounts,
    agentCpuMsPerRun: (agentCpuSeconds * 1000) / runs,
    agentCpuPercent: (agentCpuSeconds / snapshotSeconds) * 100,
    launcherCpuMsPerRun: launcherPids.length > 0 ? (launcherCpuSeconds * 1000) / runs : NaN,
    launcherCpuPercent:
      launcherPids.length > 0 ? (launcherCpuSeconds / snapshotSeconds) * 100 : NaN,
    launchers: launcherPids.length,
    executors,
    etcdCpuPercent: ((after.etcdCpu - before.etcdCpu) / snapshotSeconds) * 100,
    mongoCpuPercent: ((after.mongoCpu - before.mongoCpu) / snapshotSeconds) * 100,
    measuredMs: Math.round(after.at - before.at),
    loopDelay:
      loopIntervals.length === 0
        ? null
        : {
            intervals: loopIntervals.length,
            p99MaxMs: Math.max(...p99s),
            maxMs: Math.max(...loopIntervals.map((i) => i.max)),
            p99MedianMs: p99s[Math.floor((p99s.length - 1) / 2)] ?? NaN,
          },
    launchesByTick,
    machineBusyPercent: busyPercent(before.machine, after.machine),
    snapshotSlipMs,
  };
}

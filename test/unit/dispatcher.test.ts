/**
 * The dispatcher's ordering rules, with in-memory stand-ins for etcd and the runner: a burst
 * beyond maxConcurrentRuns waits for room and runs in order (late, not dropped), and a tick
 * superseded by a later due tick of the same job runs once, for the later tick.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Claims, TickClaim } from '../../agent/claim.ts';
import type { ClusterView } from '../../agent/cluster-view.ts';
import { createDispatcher } from '../../agent/dispatcher.ts';
import { createLockHistory, type LockHistory } from '../../agent/lock-history.ts';
import type { RunLogWriter } from '../../agent/run-log-writer.ts';
import type { Runner } from '../../agent/runner.ts';
import type { Session } from '../../agent/session.ts';
import type { RunningEntry } from '../../core/coordination.ts';
import type { Job } from '../../core/job.ts';
import type { RunRecord } from '../../core/run-log.ts';
import { job } from '../contract/records.ts';

const T0 = Date.UTC(2026, 11, 7, 4, 0, 0);

interface World {
  readonly fire: (j: Job, tickMs: number) => void;
  /** Ticks whose runs started, in order, as `job@tick`. */
  readonly started: string[];
  readonly events: { event: string; detail: Record<string, unknown> }[];
  /** Skip records written, as their reasons. */
  readonly skipReasons: string[];
  /** When each claim was sent (by `now`), in order. */
  readonly claimTimes: number[];
  /** When each run started (by `now`), in order. */
  readonly startTimes: number[];
  /** Run ids whose claims were released. */
  readonly released: string[];
  /** The jobs as the agent's view holds them (change one to edit the job). */
  readonly jobs: Map<string, Job>;
  /** Ends the oldest run still going. */
  endOldestRun(): void;
  /** Resolves once `count` runs have started. */
  startedCount(count: number): Promise<void>;
  /** Resolves once `check` holds, checked whenever a claim, release or start is recorded. */
  until(check: () => boolean): Promise<void>;
  settle(): Promise<void>;
}

interface WorldOptions {
  /** Ticks claimed before the test starts, by job. */
  readonly claimedBefore?: Readonly<Record<string, number>>;
  /** Runs inside each claim, before its answer: what the agent's watch may show meanwhile. */
  readonly duringClaim?: (lockHistory: LockHistory, j: Job) => void;
  /** `locked` answers to give before claims succeed, as a held forbid lock would. */
  readonly lockedAnswers?: number;
}

function world(
  jobs: readonly Job[],
  maxConcurrentRuns: number,
  nowMs: () => number,
  options: WorldOptions = {},
): World {
  const jobMap = new Map(jobs.map((j) => [j.name, j]));
  const claimed = new Map<string, number>(Object.entries(options.claimedBefore ?? {}));
  const lockHistory = createLockHistory(nowMs);
  const view: ClusterView = {
    jobs: jobMap,
    workers: new Map(),
    running: new Map(),
    hasManual: () => false,
    lastClaimedTick: (name) => claimed.get(name) ?? 0,
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
  const session = { isLive: () => true } as unknown as Session;
  const claimTimes: number[] = [];
  const startTimes: number[] = [];
  const released: string[] = [];
  let lockedAnswers = options.lockedAnswers ?? 0;
  const claims: Claims = {
    claimTick(j, tickMs): Promise<TickClaim> {
      claimTimes.push(nowMs());
      recorded();
      if (lockedAnswers > 0) {
        lockedAnswers--;
        return Promise.resolve({ outcome: 'locked', previousTick: null });
      }
      const previous = claimed.get(j.name) ?? null;
      if (previous !== null && previous >= tickMs)
        return Promise.resolve({ outcome: 'taken', previousTick: null });
      claimed.set(j.name, tickMs);
      options.duringClaim?.(lockHistory, j);
      return Promise.resolve({ outcome: 'claimed', previousTick: previous });
    },
    tickClaimed: () => Promise.resolve(false),
    claimManual: () => Promise.resolve('taken'),
    release: (_j, entry) => {
      released.push(entry.runId);
      recorded();
      return Promise.resolve();
    },
    reattach: () => Promise.resolve(true),
    claimChore: () => Promise.resolve(false),
    sweepTicksOfDeletedJobs: () => Promise.resolve(0),
  };
  const started: string[] = [];
  const running: (() => void)[] = [];
  let waiters: { check: () => boolean; resolve: () => void }[] = [];
  const recorded = (): void => {
    const ready = waiters.filter((w) => w.check());
    waiters = waiters.filter((w) => !w.check());
    for (const w of ready) w.resolve();
  };
  const until = (check: () => boolean): Promise<void> =>
    check() ? Promise.resolve() : new Promise((resolve) => waiters.push({ check, resolve }));
  const runner = {
    get activeCount() {
      return running.length;
    },
    hasCapacity: (reserved = 0) => running.length + reserved < maxConcurrentRuns,
    prepare: (j: Job, tickMs: number): RunningEntry => ({
      runId: `${j.name}-${tickMs}`,
      jobName: j.name,
      agentId: 'agent-a',
      host: 'host-a',
      pid: 0,
      planTime: tickMs,
      startTime: nowMs(),
      command: j.command,
    }),
    start(j: Job, entry: RunningEntry) {
      started.push(`${j.name}@${entry.planTime - T0}`);
      startTimes.push(nowMs());
      recorded();
      return new Promise<void>((resolve) => running.push(resolve));
    },
  } as unknown as Runner;
  const skipReasons: string[] = [];
  const writer = {
    accept: (record: RunRecord) => {
      if (record.skip) skipReasons.push(record.skip.reason);
    },
  } as unknown as RunLogWriter;
  const events: World['events'] = [];
  const dispatcher = createDispatcher(view, session, claims, runner, writer, {
    agentId: 'agent-a',
    host: 'host-a',
    labels: {},
    claimGraceMs: 1_000,
    misfireWindowMs: 60_000,
    lockHistory,
    now: nowMs,
    onEvent: (event, detail) => events.push({ event, detail }),
  });
  return {
    fire: (j, tickMs) => dispatcher.fire(j, tickMs),
    started,
    events,
    skipReasons,
    claimTimes,
    startTimes,
    released,
    jobs: jobMap,
    endOldestRun() {
      running.shift()?.();
    },
    startedCount: (count) => until(() => started.length >= count),
    until,
    settle: () => new Promise((resolve) => setImmediate(resolve)),
  };
}

describe('dispatcher', () => {
  it('runs a burst beyond maxConcurrentRuns late and in order, dropping none', async () => {
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((name) => job(name, { concurrency: 'allow' }));
    const w = world(jobs, 2, () => T0 + 10);
    for (const j of jobs) w.fire(j, T0);
    await w.startedCount(2);
    await w.settle();
    assert.deepEqual(w.started, ['a@0', 'b@0'], 'two runs at a time');
    assert.ok(w.events.some((e) => e.event === 'claim:atCapacity'));
    for (let ended = 1; ended <= 3; ended++) {
      w.endOldestRun();
      await w.startedCount(2 + ended);
      await w.settle();
      assert.equal(w.started.length, 2 + ended, 'each run that ends makes room for one');
    }
    assert.deepEqual(w.started, ['a@0', 'b@0', 'c@0', 'd@0', 'e@0']);
  });

  it('runs a job once, for its latest tick, when a later tick is due before the first is claimed', async () => {
    const [busy, late] = [job('busy', { concurrency: 'allow' }), job('late')];
    const w = world([busy, late], 1, () => T0 + 1_500);
    w.fire(busy, T0);
    await w.startedCount(1);
    w.fire(late, T0);
    w.fire(late, T0 + 1_000);
    await w.settle();
    w.endOldestRun();
    await w.startedCount(2);
    await w.settle();
    w.endOldestRun();
    await w.settle();
    assert.deepEqual(w.started, ['busy@0', 'late@1000']);
    const superseded = w.events.filter((e) => e.event === 'claim:superseded');
    assert.deepEqual(
      superseded.map((e) => e.detail.tick),
      [T0],
    );
  });

  it('says ticks missed while no agent was alive were not claimed for that, even when its own new lock shows first', async () => {
    // The agent was down from T0 to T0 + 6 s; its first claim after the restart finds the gap,
    // and its watch delivers the lock of that very claim before the claim's answer.
    const heartbeat = job('heartbeat', { concurrency: 'forbid', cronExpr: '* * * * * *' });
    const w = world([heartbeat], 4, () => T0 + 6_050, {
      claimedBefore: { heartbeat: T0 },
      duringClaim: (lockHistory, j) => lockHistory.changed(j.name, true),
    });
    w.fire(heartbeat, T0 + 6_000);
    await w.startedCount(1);
    await w.settle();
    assert.deepEqual(w.skipReasons, ['no agent alive']);
  });

  it(
    'claims a tick handed over ahead of its time at once, and starts the run at the tick',
    { timeout: 5_000 },
    async () => {
      const early = job('early', { concurrency: 'allow' });
      const w = world([early], 4, Date.now);
      const tickMs = Date.now() + 100;
      w.fire(early, tickMs);
      await w.startedCount(1);
      assert.ok((w.claimTimes[0] ?? Infinity) < tickMs, 'claimed before the tick');
      assert.ok((w.startTimes[0] ?? 0) >= tickMs, 'started at the tick, not before');
    },
  );

  it(
    'claims a forbid job again at its tick when its lock was still held ahead of it',
    { timeout: 5_000 },
    async () => {
      const forbid = job('forbid-early', { concurrency: 'forbid' });
      const w = world([forbid], 4, Date.now, { lockedAnswers: 1 });
      const tickMs = Date.now() + 100;
      w.fire(forbid, tickMs);
      await w.startedCount(1);
      assert.equal(w.claimTimes.length, 2);
      assert.ok((w.claimTimes[1] ?? 0) >= tickMs, 'the second claim waits for the tick');
      assert.deepEqual(w.started, [`forbid-early@${tickMs - T0}`]);
    },
  );
});

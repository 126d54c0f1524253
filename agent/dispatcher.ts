/**
 * Turns a due tick into at most one run across the fleet (guarantees 1, 3 and 6), and a
 * run-now request into exactly one run.
 *
 * Every agent ranks the eligible live agents for `job@tick` by rendezvous hashing. The first in
 * that order claims as soon as the scheduler hands it the tick (claimLeadMs before its time) and
 * starts the run at the tick, so the claim's round trip to etcd is not part of the run's
 * lateness; a forbid job whose lock is still held that early is claimed again at the tick. The
 * k-th waits until k × claimGraceMs after the tick and claims only if the tick is still
 * unclaimed as far as its watch has seen. So a healthy fleet spends one claim per run, and a
 * dead or busy preferred agent delays a run by a grace instead of skipping it.
 *
 * Late is better than never, once: a tick whose claim waits (a burst beyond the machine's launch
 * rate, a busy etcd) is still claimed up to the misfire window after its time (60 s by default,
 * Quartz's misfire threshold), but a tick superseded by a later tick of the same job that is
 * already due is not: the job runs once, for its latest tick, as Quartz's "fire once now" and
 * Kubernetes CronJobs do. Skipped ticks are never silent: the next claim finds the gap and
 * records it (see core/skips.ts). A fenced agent (session not live) claims nothing.
 */
import type { ManualTrigger, RunningEntry } from '../core/coordination.ts';
import { parseSchedule } from '../core/cron/schedule.ts';
import type { Job } from '../core/job.ts';
import { labelsMatch } from '../core/job.ts';
import { rankAgents } from '../core/rendezvous.ts';
import { missedTicks, skipRecord } from '../core/skips.ts';
import type { AgentMetrics } from './agent-metrics.ts';
import type { Claims } from './claim.ts';
import type { ClusterView } from './cluster-view.ts';
import { createLimiter } from './limiter.ts';
import type { LockHistory } from './lock-history.ts';
import type { RunLogWriter } from './run-log-writer.ts';
import type { RunContext, Runner } from './runner.ts';
import type { Session } from './session.ts';

/**
 * Claim transactions one agent keeps in flight. Enough to keep a loopback etcd busy (a claim is
 * a millisecond or two there); a burst beyond it waits its turn instead of overrunning the
 * client's call deadline.
 */
const CLAIMS_IN_FLIGHT = 32;

/** Why ticks of a `forbid` job are skipped while its previous run goes on. */
export const SKIP_REASON_FORBID = 'the previous run was still running (concurrency forbid)';

/** A tick claim this agent won, with what is needed to start its run and report skips. */
interface WonClaim {
  readonly job: Job;
  readonly entry: RunningEntry;
  readonly previousTick: number | null;
  readonly claimSentAt: number;
}

export interface DispatcherOptions {
  readonly agentId: string;
  readonly host: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly claimGraceMs: number;
  readonly misfireWindowMs: number;
  readonly lockHistory: LockHistory;
  readonly now: () => number;
  readonly metrics?: AgentMetrics;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface Dispatcher {
  /** Called by the scheduler when a tick is due. */
  fire(job: Job, tickMs: number): void;
  /** Called when a run-now request appears (`raw` is its stored value, compared in the claim). */
  manual(name: string, trigger: ManualTrigger, raw: string): void;
  /** A job was deleted: forget what was kept of it. */
  forget(name: string): void;
  /** True while claims are allowed (false once stopping). */
  readonly accepting: boolean;
  /**
   * Stops claiming. Resolves once every claim already sent has been answered and each won one
   * handed to the runner: a claimed tick is run (within the agent's shutdown grace), not
   * dropped.
   */
  stop(): Promise<void>;
}

export function createDispatcher(
  view: ClusterView,
  session: Session,
  claims: Claims,
  runner: Runner,
  writer: RunLogWriter,
  options: DispatcherOptions,
): Dispatcher {
  const emit = options.onEvent ?? (() => undefined);
  const pending = new Set<NodeJS.Timeout>();
  const claimSlots = createLimiter(CLAIMS_IN_FLIGHT);
  /** The latest tick fired of each job, to tell a superseded tick. */
  const latestFired = new Map<string, number>();
  /** Claims holding room for a run: waiting to be sent or answered, or won and not yet started. */
  let claiming = 0;
  let settledWaiters: (() => void)[] = [];
  /** Claims waiting for room under maxConcurrentRuns, woken when a claim or a run ends. */
  let roomWaiters: (() => void)[] = [];
  const wakeRoomWaiters = (): void => {
    const waiters = roomWaiters;
    roomWaiters = [];
    for (const resolve of waiters) resolve();
  };
  /**
   * Reserves room for one more run under maxConcurrentRuns (false if the dispatcher stopped
   * first). A burst beyond capacity waits here, in order, and runs late rather than being
   * dropped; the misfire window and a later tick of the job still bound how late. The check and
   * the reservation are one synchronous step, so waiters woken together cannot overshoot.
   */
  async function reserveRoom(): Promise<boolean> {
    while (accepting && !runner.hasCapacity(claiming)) {
      await new Promise<void>((resolve) => roomWaiters.push(resolve));
    }
    if (accepting) claiming++;
    return accepting;
  }
  const claimDone = (): void => {
    claiming--;
    wakeRoomWaiters();
    if (claiming > 0) return;
    const waiters = settledWaiters;
    settledWaiters = [];
    for (const resolve of waiters) resolve();
  };
  let accepting = true;

  function eligibleAgents(job: Job): string[] {
    const ids: string[] = [];
    for (const worker of view.workers.values()) {
      if (labelsMatch(job.labels, worker.labels)) ids.push(worker.agentId);
    }
    // Until our own registration is seen we still count ourselves: we are alive by definition.
    if (!view.workers.has(options.agentId) && labelsMatch(job.labels, options.labels))
      ids.push(options.agentId);
    return ids;
  }

  function later(
    delayMs: number,
    action: () => Promise<void>,
    what: Record<string, unknown>,
  ): void {
    const run = (): void => {
      action().catch((error: unknown) => emit('claim:failed', { ...what, error: String(error) }));
    };
    if (delayMs <= 0) {
      run();
      return;
    }
    const timer = setTimeout(() => {
      pending.delete(timer);
      run();
    }, delayMs);
    pending.add(timer);
  }

  /**
   * Records the ticks between the one claimed before and `tickMs` as skipped, with why. Only a
   * lock span that began before this claim was sent can have held up those ticks: a later one is
   * this claim's own lock, which the watch may show before the claim's answer arrives.
   */
  function reportSkips(
    job: Job,
    previousTick: number | null,
    tickMs: number,
    claimSentAt: number,
  ): void {
    if (previousTick === null) return;
    const missed = missedTicks(
      parseSchedule(job.cronExpr, job.timezone),
      previousTick,
      tickMs,
      job.updatedAt,
    );
    if (!missed) return;
    const agentsStartedSince = [...view.workers.values()].every(
      (w) => w.startedAt > missed.firstMissed,
    );
    const reason =
      job.concurrency === 'forbid' &&
      options.lockHistory.heldDuring(
        job.name,
        missed.firstMissed,
        Math.min(missed.lastMissed + options.misfireWindowMs, claimSentAt - 1),
      )
        ? SKIP_REASON_FORBID
        : agentsStartedSince
          ? 'no agent alive'
          : 'not claimed within the misfire window';
    writer.accept(
      skipRecord(job, missed, {
        agentId: options.agentId,
        host: options.host,
        nowMs: options.now(),
        reason,
      }),
    );
    options.metrics?.skippedTicks.inc({}, missed.count);
    emit('claim:skipsRecorded', {
      job: job.name,
      count: missed.count,
      firstMissed: missed.firstMissed,
      reason,
    });
  }

  /** The claim transaction of a tick, if it is still this agent's to claim when its turn comes. */
  async function claimIfDue(
    job: Job,
    tickMs: number,
    rank: number,
  ): Promise<WonClaim | 'locked-early' | null> {
    if (!runner.hasCapacity(claiming)) emit('claim:atCapacity', { job: job.name, tick: tickMs });
    if (!(await reserveRoom())) return null;
    let won = false;
    try {
      if (view.lastClaimedTick(job.name) >= tickMs) return null;
      const current = view.jobs.get(job.name);
      if (!current || !current.enabled) return null;
      if (options.now() - tickMs > options.misfireWindowMs) {
        emit('claim:misfire', { job: job.name, tick: tickMs, rank });
        return null;
      }
      if ((latestFired.get(job.name) ?? tickMs) > tickMs) {
        emit('claim:superseded', { job: job.name, tick: tickMs, rank });
        return null;
      }
      if (!session.isLive()) {
        emit('claim:fenced', { job: job.name, tick: tickMs });
        return null;
      }
      // A fallback claim whose watch lags (a busy agent or etcd) would otherwise spend a failed
      // write on a tick the preferred agent has already taken.
      if (rank > 0 && (await claims.tickClaimed(current, tickMs))) {
        emit('claim:alreadyClaimed', { job: job.name, tick: tickMs, rank });
        return null;
      }
      if (!accepting) return null;
      const entry = runner.prepare(current, tickMs);
      const startedAt = performance.now();
      const claimSentAt = options.now();
      const { outcome, previousTick } = await claims.claimTick(current, tickMs, entry);
      options.metrics?.etcdCall.observe((performance.now() - startedAt) / 1000, { op: 'claim' });
      options.metrics?.claims.inc({ outcome: outcome === 'claimed' ? 'won' : outcome });
      emit('claim:outcome', { job: job.name, tick: tickMs, rank, outcome });
      // The previous run may well end before the tick: that is when the lock must be free.
      if (outcome === 'locked' && claimSentAt < tickMs) return 'locked-early';
      won = outcome === 'claimed';
      return won ? { job: current, entry, previousTick, claimSentAt } : null;
    } finally {
      // A won claim stays counted until the runner holds its run (see startClaimed).
      if (!won) claimDone();
    }
  }

  /**
   * Starts a won claim's run, also while stopping (the tick is ours; dropping it would skip it
   * unseen), then stops counting the claim: the runner counts the run now.
   */
  async function startClaimed(job: Job, entry: RunningEntry, context: RunContext): Promise<void> {
    let run: Promise<void>;
    try {
      // The runner registers the run synchronously, before its first await.
      run = runner.start(job, entry, context);
    } finally {
      claimDone();
    }
    await run;
    wakeRoomWaiters();
  }

  async function tryClaim(job: Job, tickMs: number, rank: number): Promise<void> {
    const claimed = await claimSlots.run(() => claimIfDue(job, tickMs, rank));
    if (claimed === null) return;
    if (claimed === 'locked-early') {
      later(tickMs - options.now(), () => tryClaim(job, tickMs, rank), {
        job: job.name,
        tick: tickMs,
      });
      return;
    }
    reportSkips(claimed.job, claimed.previousTick, tickMs, claimed.claimSentAt);
    // A claim won ahead of its tick starts at the tick, not before (the claim stays counted
    // against maxConcurrentRuns meanwhile). Like any claimed tick it runs: its running key is
    // already visible, and a job disabled or deleted after the claim keeps its runs in flight.
    while (options.now() < tickMs) {
      await new Promise((resolve) => setTimeout(resolve, tickMs - options.now()));
    }
    await startClaimed(claimed.job, claimed.entry, {
      scheduleTime: options.now(),
      trigger: 'schedule',
      triggeredBy: null,
    });
  }

  async function claimManualIfWaiting(
    name: string,
    trigger: ManualTrigger,
    raw: string,
    rank: number,
  ): Promise<{ job: Job; entry: RunningEntry } | null> {
    const job = view.jobs.get(name);
    if (
      !accepting ||
      !job ||
      !view.hasManual(name, raw) ||
      !session.isLive() ||
      !runner.hasCapacity(claiming)
    )
      return null;
    const entry = runner.prepare(job, trigger.requestedAt, trigger.runId);
    claiming++;
    let won = false;
    try {
      const outcome = await claims.claimManual(job, raw, entry);
      emit('claim:manualOutcome', { job: name, runId: trigger.runId, rank, outcome });
      won = outcome === 'claimed';
      return won ? { job, entry } : null;
    } finally {
      if (!won) claimDone();
    }
  }

  async function tryManual(
    name: string,
    trigger: ManualTrigger,
    raw: string,
    rank: number,
  ): Promise<void> {
    const claimed = await claimSlots.run(() => claimManualIfWaiting(name, trigger, raw, rank));
    if (!claimed) return;
    await startClaimed(claimed.job, claimed.entry, {
      scheduleTime: options.now(),
      trigger: 'manual',
      triggeredBy: trigger.requestedBy,
    });
  }

  return {
    get accepting() {
      return accepting;
    },
    fire(job, tickMs) {
      if (!accepting || !job.enabled) return;
      if ((latestFired.get(job.name) ?? -Infinity) < tickMs) latestFired.set(job.name, tickMs);
      const rank = rankAgents(`${job.name}@${tickMs}`, eligibleAgents(job)).indexOf(
        options.agentId,
      );
      if (rank < 0) return;
      later(
        rank === 0 ? 0 : tickMs + rank * options.claimGraceMs - options.now(),
        () => tryClaim(job, tickMs, rank),
        { job: job.name, tick: tickMs },
      );
    },
    forget(name) {
      latestFired.delete(name);
    },
    manual(name, trigger, raw) {
      const job = view.jobs.get(name);
      if (!accepting || !job) return;
      // A run-now request runs even for a disabled job: the operator asked for it explicitly.
      const rank = rankAgents(`${name}@manual:${trigger.runId}`, eligibleAgents(job)).indexOf(
        options.agentId,
      );
      if (rank < 0) return;
      later(rank * options.claimGraceMs, () => tryManual(name, trigger, raw, rank), {
        job: name,
        runId: trigger.runId,
      });
    },
    stop() {
      accepting = false;
      wakeRoomWaiters();
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      if (claiming === 0) return Promise.resolve();
      return new Promise((resolve) => settledWaiters.push(resolve));
    },
  };
}

/**
 * Turns a due tick into at most one run across the fleet (guarantees 1, 3 and 6).
 *
 * Every agent ranks the eligible live agents for `job@tick` by rendezvous hashing. The first in
 * that order claims at once; the k-th waits k × claimGraceMs and claims only if the tick is still
 * unclaimed as far as its watch has seen. So a healthy fleet spends one claim per run, and a dead
 * or busy preferred agent delays a run by a grace instead of skipping it. A tick nobody claimed
 * within the misfire window is skipped. A fenced agent (session not live) claims nothing.
 */
import type { Job } from '../core/job.ts';
import { labelsMatch } from '../core/job.ts';
import { rankAgents } from '../core/rendezvous.ts';
import type { Claims } from './claim.ts';
import type { ClusterView } from './cluster-view.ts';
import type { Runner } from './runner.ts';
import type { Session } from './session.ts';

export interface DispatcherOptions {
  readonly agentId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly claimGraceMs: number;
  readonly misfireWindowMs: number;
  readonly now: () => number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export interface Dispatcher {
  /** Called by the scheduler when a tick is due. */
  fire(job: Job, tickMs: number): void;
  /** True while claims are allowed (false once stopping). */
  readonly accepting: boolean;
  stop(): void;
}

export function createDispatcher(
  view: ClusterView,
  session: Session,
  claims: Claims,
  runner: Runner,
  options: DispatcherOptions,
): Dispatcher {
  const emit = options.onEvent ?? (() => undefined);
  const pending = new Set<NodeJS.Timeout>();
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

  async function tryClaim(job: Job, tickMs: number, rank: number): Promise<void> {
    if (!accepting) return;
    if (view.lastClaimedTick(job.name) >= tickMs) return;
    const current = view.jobs.get(job.name);
    if (!current || !current.enabled) return;
    if (options.now() - tickMs > options.misfireWindowMs) {
      emit('claim:misfire', { job: job.name, tick: tickMs, rank });
      return;
    }
    if (!session.isLive()) {
      emit('claim:fenced', { job: job.name, tick: tickMs });
      return;
    }
    if (!runner.hasCapacity()) {
      emit('claim:atCapacity', { job: job.name, tick: tickMs });
      return;
    }
    const entry = runner.prepare(current, tickMs);
    const outcome = await claims.claimTick(current, tickMs, entry);
    emit('claim:outcome', { job: job.name, tick: tickMs, rank, outcome });
    if (outcome !== 'claimed' || !accepting) return;
    await runner.start(current, entry, options.now());
  }

  return {
    get accepting() {
      return accepting;
    },
    fire(job, tickMs) {
      if (!accepting || !job.enabled) return;
      const agents = eligibleAgents(job);
      const rank = rankAgents(`${job.name}@${tickMs}`, agents).indexOf(options.agentId);
      if (rank < 0) return;
      const delayMs = tickMs + rank * options.claimGraceMs - options.now();
      const run = (): void => {
        tryClaim(job, tickMs, rank).catch((error: unknown) =>
          emit('claim:failed', { job: job.name, tick: tickMs, error: String(error) }),
        );
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
    },
    stop() {
      accepting = false;
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
    },
  };
}

/**
 * Timer-driven scheduler: a min-heap of each job's next tick and one timer for the earliest.
 * No polling loop; a job change re-plans only that job. Long waits are re-armed in slices so a
 * wall-clock jump (or an NTP step) is noticed within a minute.
 *
 * States: running → stopped. Fires only while running.
 */
import type { Job } from '../core/job.ts';
import { parseSchedule } from '../core/cron/schedule.ts';

export interface SchedulerOptions {
  readonly now: () => number;
  /** Called `leadMs` before each tick's time (or just after that); must not throw. */
  readonly fire: (job: Job, tickMs: number) => void;
  /** How long before its time a tick is handed to `fire` (default 0: at its time). */
  readonly leadMs?: number;
  readonly onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export type SchedulerState = 'running' | 'stopped';

export interface Scheduler {
  readonly state: SchedulerState;
  /** Adds, replaces (job) or removes (null) a job's plan. */
  set(name: string, job: Job | null): void;
  /** The next planned tick of a job, for tests and health. */
  nextTick(name: string): number | null;
  readonly size: number;
  stop(): void;
}

/**
 * A job's next tick. It holds no parsed schedule (several KiB each): the next tick after this
 * one is computed from the shared, bounded schedule cache, which a fleet's common expressions
 * hit and which keeps memory flat however many distinct ones there are.
 */
interface Plan {
  readonly job: Job;
  tickMs: number;
  /** Position in the heap, maintained by the heap operations. */
  index: number;
}

const MAX_TIMER_MS = 60_000;

export function createScheduler(options: SchedulerOptions): Scheduler {
  const emit = options.onEvent ?? (() => undefined);
  const leadMs = options.leadMs ?? 0;
  const plans = new Map<string, Plan>();
  const heap: Plan[] = [];
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Infinity;
  let state: SchedulerState = 'running';

  const less = (a: Plan, b: Plan): boolean => a.tickMs < b.tickMs;
  function swap(i: number, j: number): void {
    const a = heap[i] as Plan;
    const b = heap[j] as Plan;
    heap[i] = b;
    heap[j] = a;
    b.index = i;
    a.index = j;
  }
  function up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i] as Plan, heap[parent] as Plan)) break;
      swap(i, parent);
      i = parent;
    }
  }
  function down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l] as Plan, heap[m] as Plan)) m = l;
      if (r < heap.length && less(heap[r] as Plan, heap[m] as Plan)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  }
  function push(plan: Plan): void {
    plan.index = heap.length;
    heap.push(plan);
    up(plan.index);
  }
  function remove(plan: Plan): void {
    const last = heap.pop() as Plan;
    if (last !== plan) {
      heap[plan.index] = last;
      last.index = plan.index;
      down(last.index);
      up(last.index);
    }
    plan.index = -1;
  }

  function arm(): void {
    if (state !== 'running') return;
    const first = heap[0];
    if (!first) {
      clearTimeout(timer);
      timer = undefined;
      armedFor = Infinity;
      return;
    }
    if (timer !== undefined && armedFor === first.tickMs) return;
    clearTimeout(timer);
    armedFor = first.tickMs;
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, first.tickMs - leadMs - options.now()));
    timer = setTimeout(onTimer, delayMs);
  }

  /**
   * The latest of a job's ticks that are due, from its planned one: after a suspend or a clock
   * jump a job whose ticks were missed is handed over once, for the latest (the dispatcher runs
   * no superseded tick anyway, and the claim's gap check records the others as skipped).
   */
  function latestDue(plan: Plan, due: number): number {
    try {
      const schedule = parseSchedule(plan.job.cronExpr, plan.job.timezone);
      // Usually the following tick is not due yet (and asking costs nothing: it is the answer
      // the plan is advanced with, which the schedule keeps).
      const following = schedule.next(plan.tickMs);
      if (following === null || following > due) return plan.tickMs;
      const latest = schedule.previous(due + 1);
      if (latest !== null && latest > plan.tickMs) {
        emit('scheduler:caughtUp', { job: plan.job.name, from: plan.tickMs, to: latest });
        return latest;
      }
    } catch {
      // The tick planned is still right; nextFailed reports a schedule that cannot answer.
    }
    return plan.tickMs;
  }

  function onTimer(): void {
    timer = undefined;
    armedFor = Infinity;
    const due = options.now() + leadMs;
    for (
      let first = heap[0];
      first && first.tickMs <= due && state === 'running';
      first = heap[0]
    ) {
      const tickMs = latestDue(first, due);
      try {
        options.fire(first.job, tickMs);
      } catch (error) {
        emit('scheduler:fireFailed', { job: first.job.name, error: String(error) });
      }
      // fire() may have replaced or removed this plan; only advance the one still in the heap.
      if (first.index < 0 || plans.get(first.job.name) !== first) continue;
      let next: number | null;
      try {
        next = parseSchedule(first.job.cronExpr, first.job.timezone).next(tickMs);
      } catch (error) {
        // One job's schedule failing must not stop the others; it stops being planned.
        emit('scheduler:nextFailed', { job: first.job.name, error: String(error) });
        next = null;
      }
      if (next === null) {
        remove(first);
        plans.delete(first.job.name);
        emit('scheduler:scheduleEnded', { job: first.job.name });
      } else {
        first.tickMs = next;
        down(first.index);
      }
    }
    arm();
  }

  return {
    get state() {
      return state;
    },
    get size() {
      return plans.size;
    },
    set(name, job) {
      const existing = plans.get(name);
      if (existing) {
        remove(existing);
        plans.delete(name);
      }
      if (job && state === 'running') {
        try {
          const tickMs = parseSchedule(job.cronExpr, job.timezone).next(options.now());
          if (tickMs !== null) {
            const plan: Plan = { job, tickMs, index: -1 };
            plans.set(name, plan);
            push(plan);
          }
        } catch (error) {
          emit('scheduler:invalidJob', { job: name, error: String(error) });
        }
      }
      arm();
    },
    nextTick(name) {
      return plans.get(name)?.tickMs ?? null;
    },
    stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      clearTimeout(timer);
      timer = undefined;
      plans.clear();
      heap.length = 0;
    },
  };
}

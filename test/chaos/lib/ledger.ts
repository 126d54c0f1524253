/**
 * The books of a scenario: which ticks were due, which ran (and how often), which were skipped
 * and why, and which run logs never reached MongoDB or reached it twice.
 *
 * Sources: the `log` collection (the product's own record) and the agents' verbose events
 * (`run:started` is emitted right after spawn, so a run that started but left no record is a
 * lost log). A skip is a due tick without a run; its reason is read from the agents' claim
 * events for that tick, and it should be covered by a `skipped` record (issue 10), which the
 * agent that claims the next tick writes for the whole gap.
 */
import type { RunRecord } from '../../../core/run-log.ts';
import type { SeenEvent } from './world.ts';

export interface TickWindow {
  /** First and last due tick, inclusive, epoch ms. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly periodMs: number;
}

export interface JobBooks {
  readonly job: string;
  readonly ticksDue: number;
  /** Distinct runs (run ids) serving a due tick. */
  readonly runs: number;
  /** Runs beyond the first for the same tick, summed over ticks. */
  readonly duplicates: number;
  readonly duplicateTicks: readonly number[];
  readonly skips: number;
  /** Reason → count. */
  readonly skipReasons: Readonly<Record<string, number>>;
  /** Skipped ticks followed by a later run but covered by no `skipped` record (issue 10). */
  readonly unrecordedSkips: number;
  readonly unrecordedTicks: readonly number[];
  /** The reasons `skipped` records give → ticks covered. */
  readonly recordedReasons: Readonly<Record<string, number>>;
  /** Consecutive skipped ticks as [first, last] ranges. */
  readonly skipRanges: readonly (readonly [number, number])[];
  /** Runs that started (agent event) but have no record. */
  readonly lostLogs: readonly string[];
  /** Records beyond the first with the same run id. */
  readonly duplicatedLogs: number;
  /** Records of status `lost` (a run whose agent's session ended while it ran). */
  readonly lostRuns: number;
  /** Pairs of runs of this job whose [startTime, endTime] intersect (forbid jobs). */
  readonly overlaps: readonly string[];
}

/** The order in which an explanation wins when several agents saw a tick differently. */
const REASONS: readonly [string, (e: SeenEvent) => boolean][] = [
  ['claimed but never started', (e) => e.event === 'claim:outcome' && e.outcome === 'claimed'],
  ['claim failed (etcd error)', (e) => e.event === 'claim:failed'],
  ['forbid lock held', (e) => e.event === 'claim:outcome' && e.outcome === 'locked'],
  ['fenced: claim refused by etcd', (e) => e.event === 'claim:outcome' && e.outcome === 'fenced'],
  ['fenced: session lost', (e) => e.event === 'claim:fenced'],
  ['at capacity', (e) => e.event === 'claim:atCapacity'],
  ['misfire: past the window', (e) => e.event === 'claim:misfire'],
  [
    'taken: claimed elsewhere, never run',
    (e) => e.event === 'claim:outcome' && e.outcome === 'taken',
  ],
  ['gone: job deleted', (e) => e.event === 'claim:outcome' && e.outcome === 'gone'],
];
export const NOT_FIRED = 'not fired: no live agent attempted it';

function tickOf(event: SeenEvent): number | undefined {
  const value = event.event === 'run:started' ? event.planTime : event.tick;
  return typeof value === 'number' ? value : undefined;
}

export function dueTicks(window: TickWindow): number[] {
  const ticks: number[] = [];
  for (let t = window.fromMs; t <= window.toMs; t += window.periodMs) ticks.push(t);
  return ticks;
}

/** A first, scheduled attempt at a tick: what "once per tick" counts (not retries, not run-now). */
function isTickRun(record: RunRecord): boolean {
  return (
    record.status !== 'skipped' &&
    (record.trigger ?? 'schedule') === 'schedule' &&
    (record.attempt ?? 1) === 1
  );
}

function isTickStart(event: SeenEvent): boolean {
  return (
    event.event === 'run:started' &&
    (event.trigger ?? 'schedule') === 'schedule' &&
    (event.attempt ?? 1) === 1
  );
}

export function keepBooks(
  job: string,
  window: TickWindow | null,
  records: readonly RunRecord[],
  events: readonly SeenEvent[],
  options: { readonly forbid: boolean },
): JobBooks {
  const jobRecords = records.filter((r) => r.jobName === job);
  const jobEvents = events.filter((e) => e.job === job);
  const skipRecords = jobRecords.filter((r) => r.status === 'skipped' && r.skip);

  const runsByTick = new Map<number, Set<string>>();
  const addRun = (tick: number, runId: string): void => {
    let ids = runsByTick.get(tick);
    if (!ids) runsByTick.set(tick, (ids = new Set()));
    ids.add(runId);
  };
  for (const record of jobRecords) if (isTickRun(record)) addRun(record.planTime, record.runId);
  for (const event of jobEvents) {
    const tick = tickOf(event);
    if (isTickStart(event) && tick !== undefined) addRun(tick, String(event.runId));
  }

  const ticks = window ? dueTicks(window) : [...runsByTick.keys()].sort((a, b) => a - b);
  // Duplicates count wherever they happen, inside the window or not.
  let duplicates = 0;
  const duplicateTicks: number[] = [];
  for (const [tick, ids] of runsByTick) {
    if (ids.size < 2) continue;
    duplicates += ids.size - 1;
    duplicateTicks.push(tick);
  }
  const lastRunTick = Math.max(-Infinity, ...runsByTick.keys());
  let runs = 0;
  const skipped: number[] = [];
  const skipReasons: Record<string, number> = {};
  const recordedReasons: Record<string, number> = {};
  const unrecordedTicks: number[] = [];
  for (const tick of ticks) {
    const ids = runsByTick.get(tick);
    if (ids && ids.size > 0) {
      runs += ids.size;
      continue;
    }
    skipped.push(tick);
    const seen = jobEvents.filter((e) => tickOf(e) === tick);
    const reason = REASONS.find(([, matches]) => seen.some(matches))?.[0] ?? NOT_FIRED;
    skipReasons[reason] = (skipReasons[reason] ?? 0) + 1;
    const record = skipRecords.find(
      (r) => r.skip && r.skip.firstMissed <= tick && tick <= r.skip.lastMissed,
    );
    if (record?.skip) {
      recordedReasons[record.skip.reason] = (recordedReasons[record.skip.reason] ?? 0) + 1;
    } else if (tick < lastRunTick) {
      // A gap is recorded by whoever claims the next tick; one not yet followed by a run is not due.
      unrecordedTicks.push(tick);
    }
  }

  const skipRanges: [number, number][] = [];
  for (const tick of skipped) {
    const last = skipRanges.at(-1);
    if (last && window && tick - last[1] === window.periodMs) last[1] = tick;
    else skipRanges.push([tick, tick]);
  }

  const recorded = new Set(jobRecords.map((r) => r.runId));
  const lostLogs = [
    ...new Set(
      jobEvents
        .filter((e) => e.event === 'run:started' && !recorded.has(String(e.runId)))
        .map((e) => String(e.runId)),
    ),
  ];

  // Runs of a forbid job must not overlap; `lost` records carry guessed times, `skipped` none.
  const sorted = options.forbid
    ? jobRecords
        .filter((r) => r.status !== 'lost' && r.status !== 'skipped')
        .sort((a, b) => a.startTime - b.startTime)
    : [];
  const overlaps: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i] as RunRecord;
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j] as RunRecord;
      if (b.startTime >= a.endTime) break;
      overlaps.push(
        `${a.runId.slice(0, 8)}@${a.agentId} [${iso(a.startTime)}–${iso(a.endTime)}] ∩ ` +
          `${b.runId.slice(0, 8)}@${b.agentId} [${iso(b.startTime)}–${iso(b.endTime)}]`,
      );
    }
  }

  return {
    job,
    ticksDue: ticks.length,
    runs,
    duplicates,
    duplicateTicks: duplicateTicks.sort((a, b) => a - b),
    skips: skipped.length,
    skipReasons,
    skipRanges,
    unrecordedSkips: unrecordedTicks.length,
    unrecordedTicks,
    recordedReasons,
    lostLogs,
    duplicatedLogs: jobRecords.length - recorded.size,
    lostRuns: jobRecords.filter((r) => r.status === 'lost').length,
    overlaps,
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/** A tick window of a 1-second job: every tick from `fromMs` up to `toMs`, both rounded in. */
export function secondsWindow(fromMs: number, toMs: number): TickWindow {
  return {
    fromMs: Math.ceil(fromMs / 1000) * 1000,
    toMs: Math.floor(toMs / 1000) * 1000,
    periodMs: 1000,
  };
}

export function formatRanges(ranges: readonly (readonly [number, number])[]): string {
  return ranges
    .map(([a, b]) =>
      a === b ? iso(a) : `${iso(a)}–${iso(b)} (${Math.round((b - a) / 1000) + 1} ticks)`,
    )
    .join(', ');
}

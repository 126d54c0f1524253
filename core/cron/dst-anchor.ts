/**
 * Makes cron-parser's answers around a DST transition independent of where the search starts.
 *
 * cron-parser decides DST cases while it walks: it notices a skipped hour (spring forward) or a
 * repeated hour (fall back) only when its walk steps across the transition. A search that starts
 * just after the transition sees neither, so, for a job at 02:30 Europe/Berlin:
 *   - from before 2026-03-29 01:00Z it fires at 03:30 CEST; from 03:00-03:29 CEST it skips the day;
 *   - from before 2026-10-25 01:00Z it fires once, at 02:30 CEST; from 02:00-02:29 CET (the
 *     repeated hour) it also fires at 02:30 CET, which would run the job twice that night.
 * Agents compute ticks from different starting points (a restart, a new job), so they would
 * disagree. We always answer as a search that started before the transition would: when the
 * UTC offset changed within the last few hours, the answer is taken from the chain of fire times
 * that starts just before the change. The chain depends only on the transition, so the answer is
 * still a pure function of (expression, zone, afterMs); it is memoised, so a job firing every
 * second in those hours costs one step per call, not one per fire since the change.
 * Cost otherwise: two UTC-offset look-ups per call. Schedules whose hour field allows every hour,
 * and fixed-offset zones, skip all of this: cron-parser applies its DST rules only when the hour
 * field is restricted.
 */
import type { CronDate, CronExpression } from 'cron-parser';
import { hasFixedOffset, lastInstantBeforeOffsetChange } from './zone-offsets.ts';

/** Longer than any DST shift in the tz database (2 h, Antarctica/Troll) plus its landing hour. */
export const DST_ANCHOR_WINDOW_MS = 3 * 3600_000;

/** Index of the first date strictly after `afterMs`; `dates` ascending, its last one after it. */
function firstAfter(dates: readonly CronDate[], afterMs: number): number {
  let low = 0;
  let high = dates.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((dates[middle]?.getTime() ?? Infinity) > afterMs) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * next() over a reusable cron-parser expression: the first fire strictly after `afterMs`, as a
 * search started before any recent DST transition sees it. Throws what cron-parser throws.
 */
export function createStableNext(
  expression: CronExpression,
  timeZone: string,
): (afterMs: number) => CronDate {
  const skipAnchoring = hasFixedOffset(timeZone) || expression.fields.hour.values.length === 24;
  // Fire times from just before the latest transition; valid while afterMs is in its window.
  let chain: { anchorMs: number; dates: CronDate[] } | null = null;

  return (afterMs) => {
    const anchorMs = skipAnchoring
      ? null
      : lastInstantBeforeOffsetChange(afterMs - DST_ANCHOR_WINDOW_MS, afterMs, timeZone);
    if (anchorMs === null) {
      chain = null;
      expression.reset(new Date(afterMs));
      return expression.next();
    }
    if (chain?.anchorMs !== anchorMs) chain = { anchorMs, dates: [] };
    const { dates } = chain;
    const lastDate = dates.at(-1);
    if (lastDate !== undefined && lastDate.getTime() > afterMs) {
      return dates[firstAfter(dates, afterMs)] ?? lastDate;
    }
    // Resuming from a CronDate keeps the DST flags cron-parser set while walking the chain.
    expression.reset(lastDate ?? new Date(anchorMs));
    for (;;) {
      const date = expression.next();
      dates.push(date);
      if (date.getTime() > afterMs) return date;
    }
  };
}

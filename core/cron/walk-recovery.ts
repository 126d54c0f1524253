/**
 * What to do when cron-parser gives up. Its walk is capped at 10,000 steps and throws beyond;
 * cron-parser 5.10 hits the cap when a walk crosses the 30-minute fall-back of
 * Australia/Lord_Howe (2026-04-05 02:00 -> 01:30): `0 0 12 * * *` searched from 2026-04-04
 * throws instead of answering 2026-04-05T01:30Z, after ~0.5 s of stepping. Ending the schedule
 * there would silently stop the job, so we answer around the change instead: the first fire
 * before it (a search bounded to end there), else the first fire after it (or, should that
 * search fail too, from an hour after it: a fire in that hour is skipped, which the design
 * prefers to running a tick twice). Only the failed search costs time, ~0.5 s; a job typically
 * meets one per clock change in such a zone.
 */
import { CronExpressionParser, type CronDate, type CronExpression } from 'cron-parser';
import { DST_ANCHOR_WINDOW_MS } from './dst-anchor.ts';
import { lastInstantBeforeOffsetChange } from './zone-offsets.ts';

const HOUR_MS = 3600_000;
/** How far ahead of a failed search a clock change is looked for. */
const SEARCH_SPAN_MS = 2 * 24 * HOUR_MS;
/** Past the repeated or skipped span, where cron-parser walks normally again. */
const RESUME_AFTER_CHANGE_MS = HOUR_MS;

export interface WalkRecovery {
  /** A next fire after `afterMs` when cron-parser's own search threw; null if none is found. */
  next(afterMs: number): CronDate | null;
  /** A previous fire before `beforeMs` when cron-parser's own search threw; null likewise. */
  previous(beforeMs: number): CronDate | null;
}

export function createWalkRecovery(
  cronParserExpr: string,
  expression: CronExpression,
  timeZone: string,
): WalkRecovery {
  /** The first fire in (afterMs, changeMs], or null; checked backwards first, which is cheap. */
  function firstFireBefore(afterMs: number, changeMs: number): CronDate | null {
    let last: CronDate;
    try {
      expression.reset(new Date(changeMs + 1));
      last = expression.prev();
    } catch {
      return null;
    }
    if (last.getTime() <= afterMs) return null;
    try {
      const untilChange = CronExpressionParser.parse(cronParserExpr, {
        tz: timeZone,
        currentDate: new Date(afterMs),
        endDate: new Date(changeMs),
      });
      return untilChange.next();
    } catch {
      // A fire before the change that may not be the first, rather than none.
      return last;
    }
  }

  return {
    next(afterMs) {
      // A change just before afterMs counts too: DST anchoring searches from before it.
      const changeMs = lastInstantBeforeOffsetChange(
        afterMs - DST_ANCHOR_WINDOW_MS,
        afterMs + SEARCH_SPAN_MS,
        timeZone,
        HOUR_MS,
      );
      if (changeMs === null) return null;
      if (changeMs > afterMs) {
        const before = firstFireBefore(afterMs, changeMs);
        if (before !== null) return before;
      }
      for (const resumeMs of [changeMs + 1, changeMs + RESUME_AFTER_CHANGE_MS]) {
        try {
          expression.reset(new Date(Math.max(afterMs, resumeMs)));
          return expression.next();
        } catch {
          // cron-parser gave up again: resume later.
        }
      }
      return null;
    },
    previous(beforeMs) {
      const changeMs = lastInstantBeforeOffsetChange(
        beforeMs - SEARCH_SPAN_MS,
        beforeMs,
        timeZone,
        HOUR_MS,
      );
      if (changeMs === null) return null;
      try {
        // Fires after the change are found by previous()'s forward walk with next().
        expression.reset(new Date(changeMs + 1));
        return expression.prev();
      } catch {
        return null;
      }
    },
  };
}

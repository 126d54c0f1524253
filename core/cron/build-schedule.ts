/**
 * Builds a Schedule: validates the expression, parses it once into a reusable cron-parser
 * expression, and answers next/previous with the year filter and DST anchoring on top.
 */
import { CronDate, CronExpressionParser, type CronExpression } from 'cron-parser';
import { isValidTimeZone } from '../time-zone.ts';
import { CronExpressionError, quote } from './cron-expression-error.ts';
import { parseCronSyntax, type CronSyntax } from './cron-syntax.ts';
import { createStableNext } from './dst-anchor.ts';
import { createWalkRecovery } from './walk-recovery.ts';
import { createYearSet, type YearSet } from './year-set.ts';

export interface Schedule {
  /** The expression as given, trimmed. */
  readonly expr: string;
  readonly timeZone: string;
  /** First fire time (epoch ms) strictly after `afterMs`, or null when the schedule has ended. */
  next(afterMs: number): number | null;
  /** Last fire time (epoch ms) strictly before `beforeMs`, or null when there is none. */
  previous(beforeMs: number): number | null;
}

/** Where parse-time probing starts for expressions without years; any fixed instant will do. */
const PROBE_FROM_MS = Date.UTC(2000, 0, 1);

function checkTimeZone(timeZone: string): void {
  let valid = isValidTimeZone(timeZone);
  if (valid) {
    try {
      // cron-parser's date library must accept the zone too, not only Intl.
      new CronDate(0, timeZone);
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    throw new CronExpressionError(
      'timezone',
      `unknown time zone ${quote(timeZone)}; use an IANA name such as Europe/Berlin or UTC`,
    );
  }
}

function compile(syntax: CronSyntax, expr: string, timeZone: string): CronExpression {
  try {
    return CronExpressionParser.parse(syntax.cronParserExpr, { tz: timeZone, strict: false });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // The one combination cron-parser checks itself: a day no chosen month has (Feb 30).
    if (reason.includes('Invalid explicit day of month')) {
      throw new CronExpressionError(
        'day of month',
        `${quote(expr)}: day of month ${quote(syntax.rawFields[3] ?? '')}: never occurs in month` +
          ` ${quote(syntax.rawFields[4] ?? '')}`,
      );
    }
    throw new CronExpressionError('expression', `${quote(expr)}: ${reason}`);
  }
}

/** Local midnight starting `year` in the zone (or the first instant after it, if skipped). */
function startOfYearMs(year: number, timeZone: string): number {
  return new CronDate(`${year}-01-01T00:00:00`, timeZone).getTime();
}

function assertEpochMs(epochMs: number, name: string): void {
  if (!Number.isFinite(epochMs)) throw new RangeError(`${name} must be a finite number`);
}

/** Uncached; use parseSchedule, which caches. Throws CronExpressionError. */
export function buildSchedule(expr: string, timeZone: string): Schedule {
  checkTimeZone(timeZone);
  const trimmed = expr.trim();
  const syntax = parseCronSyntax(trimmed);
  const expression = compile(syntax, trimmed, timeZone);
  const years: YearSet | null = syntax.years && createYearSet(syntax.years);
  const stableNext = createStableNext(expression, timeZone);
  const recovery = createWalkRecovery(syntax.cronParserExpr, expression, timeZone);
  // Bounds of the allowed years; searches never leave them, so they always end.
  const firstYearStartMs = years ? startOfYearMs(years.first, timeZone) : -Infinity;
  const lastYearEndMs = years ? startOfYearMs(years.last + 1, timeZone) : Infinity;

  // cron-parser throws when its walk hits its step limit (see walk-recovery.ts) or leaves the
  // dates it can represent; the probe below has ruled out expressions that never fire.
  function unfilteredNext(afterMs: number): CronDate | null {
    try {
      return stableNext(afterMs);
    } catch {
      return recovery.next(afterMs);
    }
  }

  function unfilteredPrevious(beforeMs: number): CronDate | null {
    try {
      expression.reset(new Date(beforeMs));
      return expression.prev();
    } catch {
      return recovery.previous(beforeMs);
    }
  }

  /**
   * The last question and its answer. Every job of a schedule that fired at one tick asks for
   * the next fire after that same tick (200 jobs of `* * * * * *` ask 200 times a second, on
   * every agent), and an answer costs tens of microseconds.
   */
  let lastAfterMs = NaN;
  let lastNext: number | null = null;

  function next(afterMs: number): number | null {
    if (afterMs !== lastAfterMs) {
      lastNext = computeNext(afterMs);
      lastAfterMs = afterMs;
    }
    return lastNext;
  }

  function computeNext(afterMs: number): number | null {
    assertEpochMs(afterMs, 'afterMs');
    if (!years) return unfilteredNext(afterMs)?.getTime() ?? null;
    if (afterMs >= lastYearEndMs) return null;
    let fromMs = Math.max(afterMs, firstYearStartMs - 1);
    for (;;) {
      const date = unfilteredNext(fromMs);
      if (date === null) return null;
      const year = date.getFullYear();
      if (years.has(year)) return date.getTime();
      // Jump to the next allowed year rather than walking through the years in between.
      const nextYear = years.after(year);
      if (nextYear === null) return null;
      fromMs = startOfYearMs(nextYear, timeZone) - 1;
    }
  }

  /** cron-parser's own previous fire, year-filtered; it does not apply the DST anchoring. */
  function rawPrevious(beforeMs: number): number | null {
    if (!years) return unfilteredPrevious(beforeMs)?.getTime() ?? null;
    if (beforeMs <= firstYearStartMs) return null;
    let beforeOrAtMs = Math.min(beforeMs, lastYearEndMs);
    for (;;) {
      const date = unfilteredPrevious(beforeOrAtMs);
      if (date === null) return null;
      const year = date.getFullYear();
      if (years.has(year)) return date.getTime();
      const previousYear = years.before(year);
      if (previousYear === null) return null;
      beforeOrAtMs = startOfYearMs(previousYear + 1, timeZone);
    }
  }

  /**
   * The mirror of next(): the greatest fire time next() can return that is before `beforeMs`.
   * cron-parser's prev() disagrees with its next() around DST (it returns both 02:30 of a
   * repeated hour and never the 03:30 a skipped 02:30 moves to), so its answer is only a
   * starting point, checked by walking forward with next().
   */
  function previous(beforeMs: number): number | null {
    assertEpochMs(beforeMs, 'beforeMs');
    let boundMs = beforeMs;
    for (;;) {
      const rawMs = rawPrevious(boundMs);
      // With nothing before the bound, fires moved by DST may still be: walk from the start.
      const walkFromMs = rawMs !== null ? rawMs - 1 : years ? firstYearStartMs - 1 : null;
      if (walkFromMs === null) return null;
      let bestMs: number | null = null;
      for (let fireMs = next(walkFromMs); fireMs !== null && fireMs < beforeMs;) {
        bestMs = fireMs;
        fireMs = next(fireMs);
      }
      if (bestMs !== null || rawMs === null) return bestMs;
      // rawMs was a time next() skips (the repeat of a fall-back hour): look further back.
      boundMs = rawMs;
    }
  }

  const schedule: Schedule = { expr: trimmed, timeZone, next, previous };
  const probeFromMs = years ? firstYearStartMs - 1 : PROBE_FROM_MS;
  if (next(probeFromMs) === null) {
    throw years
      ? new CronExpressionError(
          'year',
          `${quote(trimmed)}: never fires in the years it allows (${syntax.rawFields[6] ?? ''})`,
        )
      : new CronExpressionError('expression', `${quote(trimmed)}: never fires`);
  }
  return schedule;
}

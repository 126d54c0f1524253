/**
 * Cron engine: parses an expression once and answers "next fire time strictly after t".
 * Built on cron-parser; the optional 7th field (years) is filtered on top.
 */
import { CronExpressionParser } from 'cron-parser';
import { CronplaneError } from '../errors.ts';
import { isValidTimeZone } from '../time-zone.ts';

export interface Schedule {
  readonly expr: string;
  readonly timeZone: string;
  /** First fire time (epoch ms) strictly after `afterMs`, or null when the schedule has ended. */
  next(afterMs: number): number | null;
  /** Last fire time (epoch ms) strictly before `beforeMs`, or null when there is none. */
  previous(beforeMs: number): number | null;
}

export class CronExpressionError extends CronplaneError {
  /** The cron field at fault, e.g. `minute` or `year`, or `expression` when it is the whole. */
  readonly cronField: string;

  constructor(cronField: string, message: string) {
    super('invalid_cron', message, [{ field: 'cronExpr', message }]);
    this.name = 'CronExpressionError';
    this.cronField = cronField;
  }
}

export function parseSchedule(expr: string, timeZone = 'UTC'): Schedule {
  if (!isValidTimeZone(timeZone)) {
    throw new CronExpressionError('timezone', `unknown time zone "${timeZone}"`);
  }
  const trimmed = expr.trim();
  try {
    CronExpressionParser.parse(trimmed, { tz: timeZone, strict: false });
  } catch (error) {
    throw new CronExpressionError(
      'expression',
      error instanceof Error ? error.message : String(error),
    );
  }
  return {
    expr: trimmed,
    timeZone,
    next(afterMs) {
      const it = CronExpressionParser.parse(trimmed, {
        tz: timeZone,
        currentDate: new Date(afterMs),
      });
      return it.hasNext() ? it.next().getTime() : null;
    },
    previous(beforeMs) {
      const it = CronExpressionParser.parse(trimmed, {
        tz: timeZone,
        currentDate: new Date(beforeMs),
      });
      return it.hasPrev() ? it.prev().getTime() : null;
    },
  };
}

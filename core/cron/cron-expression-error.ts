/** The one error a cron expression (or its time zone) can be rejected with. */
import { CronplaneError } from '../errors.ts';

/** Where an expression went wrong; UIs use it to point at the part to fix. */
export type CronFieldName =
  | 'second'
  | 'minute'
  | 'hour'
  | 'day of month'
  | 'month'
  | 'weekday'
  | 'year'
  /** The expression as a whole: field count, macros, combinations of fields. */
  | 'expression'
  | 'timezone';

export class CronExpressionError extends CronplaneError {
  /** The cron field at fault, e.g. `minute` or `year`, or `expression` when it is the whole. */
  readonly cronField: CronFieldName;

  constructor(cronField: CronFieldName, message: string) {
    super('invalid_cron', message, [{ field: 'cronExpr', message }]);
    this.name = 'CronExpressionError';
    this.cronField = cronField;
  }
}

/** Quotes user text in messages; JSON escaping keeps control characters visible and harmless. */
export function quote(text: string): string {
  return JSON.stringify(text);
}

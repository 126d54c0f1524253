/** `/v1/cron/next`: a schedule preview, so the console can show when a job would fire. */
import { Hono } from 'hono';
import type { CronNextResponse } from '../../core/api.ts';
import { DEFAULT_CRON_PREVIEW_COUNT, MAX_CRON_PREVIEW_COUNT } from '../../core/api.ts';
import { CronplaneError } from '../../core/errors.ts';
import { CronExpressionError, parseSchedule } from '../../core/cron/schedule.ts';
import { invalidField } from '../../core/wire.ts';
import type { AppEnv } from '../auth.ts';
import { integerQuery } from '../request.ts';

const MAX_EXPR_CHARS = 256;

export function cronRoutes(now: () => number): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/cron/next', (c) => {
    const expr = c.req.query('expr');
    if (expr === undefined || expr.trim() === '' || expr.length > MAX_EXPR_CHARS) {
      throw invalidField(
        'expr',
        `must be a cron expression of at most ${MAX_EXPR_CHARS} characters`,
      );
    }
    const timezone = c.req.query('tz') ?? 'UTC';
    const count = integerQuery(c, 'count', {
      min: 1,
      max: MAX_CRON_PREVIEW_COUNT,
      fallback: DEFAULT_CRON_PREVIEW_COUNT,
    });
    let schedule;
    try {
      schedule = parseSchedule(expr, timezone);
    } catch (error) {
      if (!(error instanceof CronExpressionError)) throw error;
      // Name the query parameter at fault, not the job field the engine reports.
      const field = error.cronField === 'timezone' ? 'tz' : 'expr';
      throw new CronplaneError('invalid_cron', error.message, [{ field, message: error.message }]);
    }
    const next: string[] = [];
    let afterMs = now();
    while (next.length < count) {
      const fireMs = schedule.next(afterMs);
      if (fireMs === null) break;
      next.push(new Date(fireMs).toISOString());
      afterMs = fireMs;
    }
    return c.json({ expr: schedule.expr, timezone, next } satisfies CronNextResponse);
  });
}

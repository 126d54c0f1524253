/**
 * Cron engine: parses an expression once and answers "next fire time strictly after t".
 * Built on cron-parser 5; the optional 7th field (years) is filtered on top.
 *
 * Expressions: 5 fields (minute hour day month weekday), 6 (second first) or 7 (second ... year,
 * years 1970-2199); macros @yearly @annually @monthly @weekly @daily @midnight @hourly; month and
 * weekday names; `L` (last day of month, `5L` last Friday) and `#` (`5#3` third Friday). When
 * both day of month and weekday are restricted, a day matching either fires (Vixie cron's rule).
 * One difference from Vixie: a stepped star ("every 2nd day") in day of month counts as
 * restricted here, as cron-parser reads it, so with a weekday it fires on odd days OR on that
 * weekday; Vixie treats any field starting with a star as unrestricted (odd days AND weekday).
 *
 * DST, as cron-parser decides it (see dst-anchor.ts for how we make it start-independent):
 *   - A time the clock skips fires once, in the hour the clock lands in, at the same minute:
 *     02:30 Europe/Berlin on 2026-03-29 (02:00 CET -> 03:00 CEST) fires at 03:30 CEST
 *     (01:30Z); 02:30 America/New_York on 2026-03-08 fires at 03:30 EDT (07:30Z). A job that
 *     also names the landing time (`0 2,3 * * *`) fires once at 03:00, not twice.
 *   - A time the clock repeats fires once, at its first occurrence: 02:30 Europe/Berlin on
 *     2026-10-25 fires at 02:30 CEST (00:30Z), not again at 02:30 CET (01:30Z); 01:30
 *     America/New_York on 2026-11-01 fires at 01:30 EDT (05:30Z) only.
 *   - Schedules whose hour field is `*` follow elapsed time instead: in a repeated hour every
 *     matching minute fires twice (`0 * * * *` fires at 00:00Z and 01:00Z, both "02:00" Berlin);
 *     in a skipped hour nothing fires (`30 * * * *` has no 02:30 on 2026-03-29).
 *   - These answers do not depend on where a search starts (an agent restarting inside the
 *     repeated hour does not fire 02:30 again); cron-parser alone would (dst-anchor.ts).
 *   - Australia/Lord_Howe shifts by 30 minutes, which cron-parser's rules do not cover: its
 *     searches can hit their step limit (we answer around the change, walk-recovery.ts), and a
 *     search started inside the repeated half hour can fire a time in it a second time.
 */
import type { Schedule } from './build-schedule.ts';
import { createScheduleCache } from './schedule-cache.ts';

export type { Schedule } from './build-schedule.ts';
export { buildSchedule } from './build-schedule.ts';
export { CronExpressionError, type CronFieldName } from './cron-expression-error.ts';
export { CRON_MACROS } from './cron-syntax.ts';
export { createScheduleCache, type ScheduleCache } from './schedule-cache.ts';

/**
 * A parsed schedule takes ~7 KiB, so the cache caps that memory at ~7 MiB. A fleet's common
 * expressions (`* * * * *`, `0 * * * *`, …) stay in it; a rare one is parsed again when it
 * fires (a fraction of a millisecond).
 */
const DEFAULT_CACHE_ENTRIES = 1024;

const sharedCache = createScheduleCache(DEFAULT_CACHE_ENTRIES);

/**
 * The schedule of `expr` read in `timeZone` (IANA). Throws CronExpressionError naming the field
 * at fault. Cached: a Schedule's answers depend on its arguments alone (it remembers only its
 * last answer), so one instance can be shared.
 */
export function parseSchedule(expr: string, timeZone = 'UTC'): Schedule {
  return sharedCache.get(expr, timeZone);
}

/**
 * Next fire times of the listed jobs, from the API's schedule preview (the same cron engine the
 * agents use; the browser cannot reproduce its DST and year rules). Each schedule is asked for
 * once and again only after the time it gave has passed.
 */
import type { Api } from './api.ts';

export interface NextFireCache {
  /** Epoch ms; null when the schedule never fires again; undefined while not yet known. */
  get(cronExpr: string, timezone: string): number | null | undefined;
  /** Fetches what is missing or past; resolves true when anything changed. */
  refresh(schedules: readonly { cronExpr: string; timezone: string }[]): Promise<boolean>;
}

const keyOf = (cronExpr: string, timezone: string): string => `${timezone}\n${cronExpr}`;

export function createNextFireCache(api: Api, now: () => number = Date.now): NextFireCache {
  const known = new Map<string, number | null>();
  return {
    get: (cronExpr, timezone) => known.get(keyOf(cronExpr, timezone)),
    async refresh(schedules) {
      let changed = false;
      for (const { cronExpr, timezone } of schedules) {
        const key = keyOf(cronExpr, timezone);
        const cached = known.get(key);
        if (cached === null || (cached !== undefined && cached > now())) continue;
        const [next] = await api.cronNext(cronExpr, timezone, 1);
        known.set(key, next ?? null);
        changed = true;
      }
      return changed;
    },
  };
}

/**
 * A bounded LRU of built schedules keyed by zone and expression, so re-reading a job (every
 * watch event, every API validation) does not parse its expression again.
 */
import { buildSchedule, type Schedule } from './build-schedule.ts';

export interface ScheduleCache {
  /** The schedule of `expr` in `timeZone`; throws CronExpressionError. Failures are not kept. */
  get(expr: string, timeZone: string): Schedule;
  readonly size: number;
  clear(): void;
}

export function createScheduleCache(
  maxEntries: number,
  build: (expr: string, timeZone: string) => Schedule = buildSchedule,
): ScheduleCache {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }
  // A Map iterates in insertion order: re-inserting on a hit keeps the oldest entry first.
  const entries = new Map<string, Schedule>();
  return {
    get(expr, timeZone) {
      // Zone names never contain a newline, so the key is unambiguous.
      const key = `${timeZone}\n${expr}`;
      const hit = entries.get(key);
      if (hit !== undefined) {
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      const schedule = build(expr, timeZone);
      entries.set(key, schedule);
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      return schedule;
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
  };
}

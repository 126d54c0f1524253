/**
 * Micro benchmark of Schedule.next(): ns per call, walking each schedule's own fire times (what
 * the agent's scheduler does) and, for comparison, re-parsing with cron-parser on every call
 * (what the first version of the engine did).
 * Run: node --import tsx bench/cron-next.ts [callsPerCase]
 */
import { CronExpressionParser } from 'cron-parser';
import { buildSchedule } from '../core/cron/schedule.ts';

const CASES: ReadonlyArray<readonly [expr: string, timeZone: string]> = [
  ['*/10 * * * * *', 'UTC'],
  ['*/5 * * * *', 'UTC'],
  ['*/5 * * * *', 'Europe/Berlin'],
  ['0 9 * * 1-5', 'America/New_York'],
  ['30 2 * * *', 'Europe/Berlin'],
  ['0 0 1 * *', 'UTC'],
  ['0 0 12 1 1 * 2030-2040/2', 'UTC'],
];

const START_MS = Date.UTC(2026, 0, 1);
const calls = Number(process.argv[2] ?? 2000);

function nsPerCall(run: () => void, count: number): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / count;
}

function benchSchedule(expr: string, timeZone: string): number {
  const schedule = buildSchedule(expr, timeZone);
  const walk = (count: number) => {
    let afterMs = START_MS;
    for (let i = 0; i < count; i++) {
      const fireMs = schedule.next(afterMs);
      afterMs = fireMs ?? START_MS;
    }
  };
  walk(Math.min(calls, 200)); // warm-up: JIT and the date library's zone caches
  return nsPerCall(() => walk(calls), calls);
}

function benchReparse(expr: string, timeZone: string): number | null {
  if (expr.split(/\s+/).length > 6) return null; // cron-parser has no year field
  const walk = (count: number) => {
    let afterMs = START_MS;
    for (let i = 0; i < count; i++) {
      const it = CronExpressionParser.parse(expr, { tz: timeZone, currentDate: afterMs });
      afterMs = it.next().getTime();
    }
  };
  walk(Math.min(calls, 200));
  return nsPerCall(() => walk(calls), calls);
}

const rows = CASES.map(([expr, timeZone]) => {
  const reparse = benchReparse(expr, timeZone);
  return {
    expr,
    timeZone,
    'next() ns': Math.round(benchSchedule(expr, timeZone)),
    're-parse + next ns': reparse === null ? '-' : Math.round(reparse),
  };
});
console.log(`Schedule.next(), ${calls} consecutive calls per case, node ${process.version}`);
console.table(rows);

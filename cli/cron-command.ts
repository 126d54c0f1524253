/** @module `cronplane cron next "<expr>"`: prints a schedule's next fire times, to check an expression. */
import { parseArgs } from 'node:util';
import { CronExpressionError, parseSchedule } from '../core/cron/schedule.ts';

const DEFAULT_COUNT = 5;
const MAX_COUNT = 1000;

const SYNOPSIS = 'usage: cronplane cron next "<expr>" [--tz ZONE] [--from ISO8601] [--count N]';

const USAGE = `${SYNOPSIS}

Prints the next N (default ${DEFAULT_COUNT}, at most ${MAX_COUNT}) fire times of a cron expression
strictly after --from (default: now), one ISO 8601 UTC instant per line; fewer when the
schedule ends.

  <expr>       5 fields (minute hour day month weekday), 6 (second first), 7 (second ... year)
               or a macro (@hourly, @daily, @midnight, @weekly, @monthly, @yearly); quote it
  --tz ZONE    IANA time zone the expression is read in (default UTC), e.g. Europe/Berlin
  --from T     an instant with its offset, e.g. 2026-01-01T00:00:00Z or 2026-03-29T03:00+02:00
  --count N    how many fire times to print, 1-${MAX_COUNT}
`;

/** Invalid input: the reason is printed with the usage hint, and the exit code is 2. */
class UsageError extends Error {}

/** An ISO 8601 instant with an explicit offset: a local time without one would be ambiguous. */
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Epoch ms of an ISO 8601 instant such as 2026-01-01T00:00:00Z, or null when it is not one. */
function parseInstant(text: string): number | null {
  const match = INSTANT.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) =>
    Number(match[i] ?? 0),
  ) as [number, number, number, number, number, number];
  const millis = Math.round(Number(`0.${match[7] ?? 0}`) * 1000);
  const wallMs = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const wall = new Date(wallMs);
  // Date.UTC rolls 2026-02-30 over into March; a round trip catches every out-of-range part.
  const inRange =
    wall.getUTCFullYear() === year &&
    wall.getUTCMonth() === month - 1 &&
    wall.getUTCDate() === day &&
    wall.getUTCHours() === hour &&
    wall.getUTCMinutes() === minute &&
    wall.getUTCSeconds() === second;
  const offsetHours = Number(match[10] ?? 0);
  const offsetMinutes = Number(match[11] ?? 0);
  if (!inRange || offsetHours > 23 || offsetMinutes > 59) return null;
  const offsetMs = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return wallMs - offsetMs;
}

function parseFrom(text: string | undefined): number {
  if (text === undefined) return Date.now();
  const fromMs = parseInstant(text);
  if (fromMs === null) {
    throw new UsageError(
      `--from ${JSON.stringify(text)} is not a valid ISO 8601 instant with an offset,` +
        ' e.g. 2026-01-01T00:00:00Z',
    );
  }
  return fromMs;
}

function parseCount(text: string | undefined): number {
  if (text === undefined) return DEFAULT_COUNT;
  const count = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(count >= 1 && count <= MAX_COUNT)) {
    throw new UsageError(
      `--count ${JSON.stringify(text)} must be a whole number from 1 to ${MAX_COUNT}`,
    );
  }
  return count;
}

function parse(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        tz: { type: 'string' },
        from: { type: 'string' },
        count: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // parseArgs explains unknown flags and missing values well; keep its words.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true } as const;
  const [subcommand, expr, ...extra] = positionals;
  if (subcommand !== 'next') {
    throw new UsageError(
      subcommand === undefined
        ? 'missing the sub-command "next"'
        : `unknown sub-command ${JSON.stringify(subcommand)}`,
    );
  }
  if (expr === undefined) throw new UsageError('missing the cron expression');
  if (extra.length > 0) {
    throw new UsageError(
      `expected one expression, got ${extra.length + 1} arguments: quote it, e.g. cronplane cron next "0 12 * * *"`,
    );
  }
  return {
    help: false,
    expr,
    timeZone: values.tz ?? 'UTC',
    fromMs: parseFrom(values.from),
    count: parseCount(values.count),
  } as const;
}

/** Resolves once the text is handed to the OS, so the exit code never races the output. */
function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

export async function run(args: string[]): Promise<number> {
  let request;
  try {
    request = parse(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    await write(process.stderr, `cronplane cron: ${error.message}\n${SYNOPSIS}\n`);
    return 2;
  }
  if (request.help) {
    await write(process.stdout, USAGE);
    return 0;
  }
  let schedule;
  try {
    schedule = parseSchedule(request.expr, request.timeZone);
  } catch (error) {
    if (!(error instanceof CronExpressionError)) throw error;
    await write(process.stderr, `cronplane cron next: ${error.message}\n`);
    return 2;
  }
  const lines: string[] = [];
  for (let afterMs = request.fromMs; lines.length < request.count;) {
    const fireMs = schedule.next(afterMs);
    if (fireMs === null) break;
    lines.push(new Date(fireMs).toISOString());
    afterMs = fireMs;
  }
  await write(process.stdout, lines.map((line) => `${line}\n`).join(''));
  if (lines.length < request.count) {
    await write(
      process.stderr,
      `cronplane cron next: the schedule ends after ${lines.length} fire time(s)\n`,
    );
  }
  return 0;
}
